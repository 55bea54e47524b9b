"""crm_analytics dashboard (Streamlit entry point).

Start it with ``make dashboard`` or
``streamlit run src/crm_analytics/dashboard/app.py``. It reads only the
serving file (``CRM_SERVING_PATH``, default ``warehouse/crm.duckdb``), one
short read-only connection per query.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_analytics.dashboard.data import Filters, ServingFileMissing, serving_path
from crm_analytics.dashboard.views import PAGES, Page, load


def sidebar_filters(path) -> Filters:
    first_month, last_month = load("date_bounds", path)
    segments, countries = load("filter_options", path)
    st.sidebar.header("Filters")
    chosen = st.sidebar.date_input(
        "Months",
        value=(first_month, last_month),
        min_value=first_month,
        max_value=last_month,
        format="YYYY-MM-DD",
    )
    # While a range is being picked, the widget holds only its start.
    start, end = (chosen[0], chosen[-1]) if chosen else (first_month, last_month)
    picked_segments = st.sidebar.multiselect(
        "Segment", segments, placeholder="All segments"
    )
    picked_countries = st.sidebar.multiselect(
        "Country", countries, placeholder="All countries"
    )
    return Filters(
        start=start,
        end=end,
        segments=tuple(picked_segments),
        countries=tuple(picked_countries),
    )


def page_runner(page: Page, path, filters: Filters):
    def run() -> None:
        page.render(path, filters)

    return st.Page(run, title=page.title, url_path=page.url_path)


def main() -> None:
    st.set_page_config(page_title="crm_analytics", layout="wide")
    path = serving_path()
    try:
        filters = sidebar_filters(path)
    except ServingFileMissing as missing:
        st.error(str(missing))
        st.stop()
    st.sidebar.caption(f"Serving file: `{path}`  \nRead at {date.today():%Y-%m-%d}")
    navigation = st.navigation(
        [page_runner(page, path, filters) for page in PAGES], position="sidebar"
    )
    navigation.run()


main()
