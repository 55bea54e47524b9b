"""Fitting and scoring functions behind the dbt Python models."""
