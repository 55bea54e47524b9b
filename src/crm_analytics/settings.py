"""The settings a user gives, declared once with their bounds, and checked
before anything runs.

``python -m crm_analytics.publish`` (``make build``, ``make demo``) calls
``check_run`` before dbt starts: the numeric dbt variables passed with
``--vars``, the environment variables of the profile and the two file paths.
A bare ``dbt build`` checks the same numeric bounds in the on-run-start hook
(macros/load_raw_check_settings.sql holds a copy of NUMERIC_SETTINGS that
tests/python/test_hostile_setting.py keeps equal to this one). Each problem
is one line naming the setting and its allowed range.

``--vars`` is trusted input (docs/bad_input.md, "Settings"): dbt renders
Jinja in it before any check of the project can run, so the publish refuses
a value holding Jinja before dbt sees it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Bounds:
    """A numeric setting: whole number or not, and its inclusive range."""

    integer: bool
    low: float
    high: float

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {self.low:.15g} to {self.high:.15g}"


DAYS_MAX = 3660
"""Ten years: the longest horizon or window a day setting may have."""

NUMERIC_SETTINGS: dict[str, Bounds] = {
    "identity_max_group_size": Bounds(True, 1, 1000),
    "max_price_to_list_ratio": Bounds(False, 1, 1e6),
    "max_quarantine_share": Bounds(False, 0, 1),
    "association_min_support": Bounds(False, 0, 1000),
    "association_min_confidence": Bounds(False, 0, 1),
    "ticket_resolution_target_hours": Bounds(False, 1, 8760),
    "churn_inactivity_days": Bounds(True, 1, DAYS_MAX),
    "seasonal_min_holiday_orders": Bounds(True, 0, 1e6),
    "seasonal_min_holiday_share": Bounds(False, 0, 1),
    "signal_overdue_factor": Bounds(False, 1, 100),
    "clv_horizon_months": Bounds(True, 1, 120),
    "clv_monthly_discount_rate": Bounds(False, 0, 1),
    "clv_holdout_days": Bounds(True, 1, DAYS_MAX),
    "churn_horizon_days": Bounds(True, 1, DAYS_MAX),
    "purchase_horizon_days": Bounds(True, 1, DAYS_MAX),
    "segment_min_purchase_days": Bounds(True, 1, 1000),
    "anomaly_magnitude_factor": Bounds(False, 1, 1000),
    "anomaly_return_p": Bounds(False, 0, 1),
    "recommendation_top_k": Bounds(True, 1, 1000),
    "recommendation_holdout_days": Bounds(True, 1, DAYS_MAX),
    "recommendation_min_buyers": Bounds(True, 1, 1e9),
    "recommendation_min_evaluation_customers": Bounds(True, 1, 1e9),
    "random_seed": Bounds(True, 0, 2**32 - 1),
}
"""Every numeric dbt variable of dbt_project.yml and its allowed range."""

NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
MEMORY_LIMIT = re.compile(r"([0-9]+(\.[0-9]+)?) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)")
JINJA = re.compile(r"\{\{|\{%|\{#")


def check_number(name: str, value: object) -> str | None:
    """The one-line problem with numeric setting ``name`` = ``value``, or None."""
    bounds = NUMERIC_SETTINGS[name]
    text = str(value).strip()
    problem = f"Variable {name} must be {bounds.describe()}, got '{text[:80]}'."
    if isinstance(value, bool) or not NUMBER.fullmatch(text):
        return problem
    number = float(text)
    if not math.isfinite(number) or not bounds.low <= number <= bounds.high:
        return problem
    if bounds.integer and number != int(number):
        return problem
    return None


def dbt_vars(dbt_args: list[str]) -> tuple[dict, list[str]]:
    """The mapping passed with ``--vars`` (last one wins, as in dbt) and the
    problems reading it."""
    text = None
    for index, arg in enumerate(dbt_args):
        if arg == "--vars" and index + 1 < len(dbt_args):
            text = dbt_args[index + 1]
        elif arg.startswith("--vars="):
            text = arg[len("--vars=") :]
    if text is None:
        return {}, []
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, [
            "--vars is not a YAML mapping: pass e.g. --vars '{random_seed: 7}'."
        ]
    if values is None:
        return {}, []
    if not isinstance(values, dict):
        return {}, [
            "--vars is not a YAML mapping: pass e.g. --vars '{random_seed: 7}'."
        ]
    return values, []


def check_vars(values: dict) -> list[str]:
    """One line per bad value in a ``--vars`` mapping."""
    problems = []
    for name, value in values.items():
        if isinstance(value, str) and JINJA.search(value):
            problems.append(
                f"Variable {name} holds Jinja ({{{{, {{% or {{#}}): --vars is "
                "rendered by dbt, so the publish refuses it; pass a plain value."
            )
        elif name in NUMERIC_SETTINGS:
            problem = check_number(str(name), value)
            if problem:
                problems.append(problem)
    return problems


def check_environment(
    environ: dict[str, str], build_path: Path, serving_path: Path
) -> list[str]:
    """One line per bad environment setting or path."""
    problems = []
    memory = environ.get("CRM_DUCKDB_MEMORY_LIMIT")
    if memory is not None:
        match = MEMORY_LIMIT.fullmatch(memory.strip())
        if not match or float(match.group(1)) <= 0:
            problems.append(
                "CRM_DUCKDB_MEMORY_LIMIT must be a positive size with a unit "
                f"(B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 12GB; got "
                f"'{memory[:80]}'."
            )
    if os.path.abspath(build_path) == os.path.abspath(serving_path) or (
        build_path.exists()
        and serving_path.exists()
        and os.path.samefile(build_path, serving_path)
    ):
        problems.append(
            "CRM_SERVING_PATH must differ from CRM_DUCKDB_PATH (the build "
            f"file); both are {build_path}: the publish would rename over the "
            "build file."
        )
    return problems


def check_run(
    dbt_args: list[str], environ: dict[str, str], build_path: Path, serving_path: Path
) -> list[str]:
    """Every problem with the settings of a build, one line each."""
    values, problems = dbt_vars(dbt_args)
    return (
        problems
        + check_vars(values)
        + check_environment(environ, Path(build_path), Path(serving_path))
    )
