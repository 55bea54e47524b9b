"""The Streamlit dashboard on the serving file (``make dashboard``)."""
