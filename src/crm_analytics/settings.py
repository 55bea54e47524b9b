"""The settings a user gives, declared once (``SETTINGS``), and every route
they take from there.

Each setting is declared here with its name, type, bounds, default and a
one-line doc; a setting given as an environment variable is named after the
variable (``CRM_RAW_DIR``), a dbt variable after the variable
(``random_seed``, passed with ``--vars``). Everything else is derived:

- dbt_project.yml: the ``vars:`` defaults and the folder-level ``+meta``
  through which the Python models of a folder get the settings they read;
- macros/settings_declared.sql: the declaration for the dbt side, read by
  the check of a bare ``dbt build`` (load_raw_check_settings and
  setting_problem) and by setting_value (an environment variable's default);
- the two settings tables of README.md;
- the table of where each setting is read, in docs/architecture.md (by a
  scan of the models, macros, tests, package, profile and Makefile);

``python -m crm_analytics.settings --write`` regenerates them (between their
markers); ``--check`` writes nothing and exits 1 when one is stale
(tests/python/test_settings.py runs it).

Validation: ``python -m crm_analytics.publish`` (``make build``, ``make
demo``) calls ``check_run`` before dbt starts: it refuses Jinja and unknown
names in ``--vars``, numbers outside their bounds, an environment variable
that breaks its pattern and a serving file equal to the build file. The dbt
side (setting_problem, in the on-run-start hook of every ``dbt build``)
checks every dbt variable: the same numeric bounds with the same message,
and the only check of a date (``as_of_date``) and of a choice (the RFM
grains), so each rule has one validator per language, both read from here.
Python models read their settings with ``setting_value``, the one typed
reader. ``dbt_environment`` builds the environment of every dbt run.

``--vars`` is trusted input (docs/bad_input.md, "Settings"): dbt renders
Jinja in it before any check of the project can run, so the publish refuses
a value holding Jinja before dbt sees it.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import math
import os
import re
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from crm_analytics.contract import PROJECT_DIR

SettingType = Literal["integer", "number", "date", "text", "path"]

NUMBER_PATTERN = r"[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"
"""A plain non-negative number: no sign, no inf or nan, no SQL after it."""

MEMORY_PATTERN = r"(?=[0-9.]*[1-9])[0-9]+(\.[0-9]+)? ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)"
"""A positive size with a unit, as DuckDB's memory_limit takes it."""

JINJA = re.compile(r"\{\{|\{%|\{#")

DAYS_MAX = 3660
"""Ten years: the longest horizon or window a day setting may have."""


@dataclass(frozen=True)
class Setting:
    """One setting: its name (the dbt variable, or the environment variable
    when ``env``), type, bounds, default and what it does."""

    name: str
    type: SettingType
    default: int | float | str | None
    doc: str
    #: Inclusive bounds of an integer or a number.
    low: float | None = None
    high: float | None = None
    #: The values a text setting may take (any case).
    choices: tuple[str, ...] = ()
    #: A regular expression the whole text must match.
    pattern: str | None = None
    #: The allowed values in words, when ``allowed`` cannot say them.
    rule: str | None = None
    #: A sentence after the message about a bad value.
    hint: str = ""
    #: An environment variable (else a dbt variable, ``--vars``).
    env: bool = False

    @property
    def allowed(self) -> str:
        """The allowed values in words, as every message about the setting
        says them ("a whole number from 1 to 1000")."""
        if self.rule:
            return self.rule
        if self.type in ("integer", "number"):
            kind = "a whole number" if self.type == "integer" else "a number"
            return f"{kind} from {self.low:.15g} to {self.high:.15g}"
        if self.type == "date":
            return "a date written YYYY-MM-DD"
        if self.choices:
            return " or ".join(f"'{choice}'" for choice in self.choices)
        if self.type == "path":
            return "a path"
        return "text"

    @property
    def full_pattern(self) -> str | None:
        """The regular expression the whole value must match, if any."""
        if self.type in ("integer", "number"):
            return NUMBER_PATTERN
        return self.pattern


def _integer(name, low, high, default, doc) -> Setting:
    return Setting(name, "integer", default, doc, low, high)


def _number(name, low, high, default, doc) -> Setting:
    return Setting(name, "number", default, doc, low, high)


def _env(name, type_, default, doc, **kwargs) -> Setting:
    return Setting(name, type_, default, doc, env=True, **kwargs)


SETTINGS: tuple[Setting, ...] = (
    # Environment variables: where the files are, and the engine.
    _env(
        "CRM_RAW_DIR",
        "path",
        "data/demo/raw",
        "Directory with the raw files (docs/raw_data_contract.md), relative "
        "to the project directory; `make demo` builds the demo's.",
        rule="a directory whose path has none of `*`, `?`, `[`, `]`",
    ),
    _env(
        "CRM_DUCKDB_PATH",
        "path",
        "warehouse/build.duckdb",
        "The build file dbt writes (every schema, test failures included).",
    ),
    _env(
        "CRM_SERVING_PATH",
        "path",
        "warehouse/crm.duckdb",
        "The serving file BI reads: the `marts` schema of the last passing build.",
        rule="a path other than CRM_DUCKDB_PATH's",
    ),
    _env(
        "CRM_DUCKDB_TEMP",
        "path",
        "warehouse/duckdb_tmp",
        "Where DuckDB spills when memory runs short.",
    ),
    _env(
        "CRM_DUCKDB_MEMORY_LIMIT",
        "text",
        "12GB",
        "DuckDB's memory limit (it spills past it); the Python models need "
        "memory on top.",
        pattern=MEMORY_PATTERN,
        rule="a positive size with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, "
        "TiB), e.g. 12GB",
    ),
    _env(
        "CRM_PII_HASH_KEY",
        "text",
        None,
        "Secret key of `dim_customers.email_hash`; `make build` makes one "
        "once in `warehouse/.pii_hash_key` when it is unset.",
        rule="32 characters or more",
    ),
    _env(
        "CRM_TARGET",
        "text",
        "dev",
        "Output of profiles/profiles.yml: `dev` writes the build file, "
        "`lint` is in memory (SQLFluff, `dbt parse`).",
        rule="a target of profiles/profiles.yml",
    ),
    # dbt variables (--vars).
    Setting(
        "as_of_date",
        "date",
        "",
        "Compute every metric as of this date, e.g. `--vars '{as_of_date: "
        "2024-06-30}'`; empty: the latest valid order date in the data.",
        hint="Pass e.g. --vars '{as_of_date: 2024-06-30}', or leave it empty "
        "for the latest order date.",
    ),
    _integer(
        "identity_max_group_size",
        1,
        1000,
        8,
        "An email or phone shared by more source records than this is a "
        "placeholder and links nothing (`customer_key` has no limit).",
    ),
    _number(
        "max_price_to_list_ratio",
        1,
        1e6,
        100,
        "An order line priced above this multiple of its product's list price "
        "is quarantined as invalid_price.",
    ),
    _number(
        "max_quarantine_share",
        0,
        1,
        0.5,
        "The build fails when more than this share of a raw table's rows is "
        "quarantined (1 turns the stop off).",
    ),
    Setting(
        "rfm_period_grain",
        "text",
        "day",
        "RFM purchase period: purchases in one day (or ISO week) count once.",
        choices=("day", "week"),
    ),
    Setting(
        "rfm_time_unit",
        "text",
        "day",
        "Unit of RFM recency and T: `week` is days / 7 (lifetimes' "
        "`freq_multiplier=7`).",
        choices=("day", "week"),
    ),
    _number(
        "association_min_support",
        0,
        1000,
        0.001,
        "Minimum support (share of baskets holding both sides) of a published "
        "association rule.",
    ),
    _number(
        "association_min_confidence",
        0,
        1,
        0.05,
        "Minimum confidence of a published association rule.",
    ),
    _number(
        "ticket_resolution_target_hours",
        1,
        8760,
        48,
        "A support ticket is resolved within target when closed within this "
        "many hours of opening.",
    ),
    _integer(
        "churn_inactivity_days",
        1,
        DAYS_MAX,
        180,
        "`fct_kpi_monthly` counts a customer as churned once this many days "
        "pass after a purchase without another one.",
    ),
    _integer(
        "seasonal_min_holiday_orders",
        0,
        1e6,
        3,
        "A seasonal buyer has at least this many completed orders in November "
        "and December (and `seasonal_min_holiday_share` of all).",
    ),
    _number(
        "seasonal_min_holiday_share",
        0,
        1,
        0.4,
        "A seasonal buyer's November and December orders are at least this "
        "share of all their completed orders.",
    ),
    _number(
        "signal_overdue_factor",
        1,
        100,
        2,
        "`fct_customer_signals`: overdue when the days since the last purchase "
        "exceed this multiple of the customer's median interval.",
    ),
    _integer(
        "clv_horizon_months",
        1,
        120,
        12,
        "Horizon of the predicted CLV, in months.",
    ),
    _number(
        "clv_monthly_discount_rate",
        0,
        1,
        0.01,
        "Monthly discount rate of the predicted CLV.",
    ),
    _integer(
        "clv_holdout_days",
        1,
        DAYS_MAX,
        180,
        "CLV check: the models are refitted on the data up to `as_of_date` "
        "minus this many days and judged on the purchases of those days.",
    ),
    _integer(
        "churn_horizon_days",
        1,
        DAYS_MAX,
        90,
        "Churn propensity: a customer churns when they make no purchase in "
        "this many days.",
    ),
    _integer(
        "purchase_horizon_days",
        1,
        DAYS_MAX,
        30,
        "Purchase propensity predicts a purchase in this many days.",
    ),
    _integer(
        "segment_min_purchase_days",
        1,
        1000,
        2,
        "Segment centroids are fitted on the buyers with at least this many "
        "purchase days; every other buyer gets the nearest centroid "
        "(docs/ml_models.md).",
    ),
    _number(
        "anomaly_magnitude_factor",
        1,
        1000,
        3,
        "Anomalies: a magnitude (units per line, orders within three days, "
        "lines per order, order value) beyond this multiple of the "
        "population's 99th percentile.",
    ),
    _number(
        "anomaly_return_p",
        0,
        1,
        0.001,
        "Anomalies: returns this unlikely at the usual return rate.",
    ),
    _integer(
        "recommendation_top_k",
        1,
        1000,
        10,
        "Recommended products per customer.",
    ),
    _integer(
        "recommendation_holdout_days",
        1,
        DAYS_MAX,
        90,
        "The recommendations are evaluated on a time split: trained up to "
        "`as_of_date` minus this many days.",
    ),
    _integer(
        "recommendation_min_buyers",
        1,
        1e9,
        50,
        "Below this many buyers the recommendations are not fitted (a "
        "`fitted` = 0 row says why).",
    ),
    _integer(
        "recommendation_min_evaluation_customers",
        1,
        1e9,
        20,
        "Below this many customers to evaluate on, the recommendations are not fitted.",
    ),
    _integer(
        "model_refit_days",
        0,
        DAYS_MAX,
        7,
        "The ML fits (CLV, segments, the churn, purchase and recommendation "
        "candidates, and the fitted churn and purchase models) are kept and "
        "reused until `as_of_date` is "
        "this many days past the fit's; 0 refits on every run "
        '(docs/ml_models.md, "Refit schedule").',
    ),
    _integer(
        "random_seed",
        0,
        2**32 - 1,
        42,
        "Seed of every random step in the Python models (two builds give "
        "identical tables).",
    ),
)
"""Every setting a user gives: the environment variables first, then the
dbt variables in the order of dbt_project.yml's ``vars:``."""

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
VAR_SETTINGS: dict[str, Setting] = {s.name: s for s in SETTINGS if not s.env}
ENV_SETTINGS: dict[str, Setting] = {s.name: s for s in SETTINGS if s.env}


# --- checks ---------------------------------------------------------------


def check_value(setting: Setting, value: object) -> str | None:
    """The one-line problem with ``setting`` = ``value``, or None. Checks
    numbers (pattern, bounds, whole for an integer) and text against its
    pattern or choices; a date is checked on the dbt side only
    (setting_problem)."""
    text = str(value).strip()
    if setting.env:
        problem = f"{setting.name} must be {setting.allowed}; got '{text[:80]}'."
    else:
        problem = (
            f"Variable {setting.name} must be {setting.allowed}, got '{text[:80]}'."
        )
        if setting.hint:
            problem += f" {setting.hint}"
    if setting.type in ("integer", "number"):
        if isinstance(value, bool) or not re.fullmatch(NUMBER_PATTERN, text):
            return problem
        number = float(text)
        if not math.isfinite(number) or not setting.low <= number <= setting.high:
            return problem
        if setting.type == "integer" and number != int(number):
            return problem
        return None
    if setting.full_pattern and not re.fullmatch(setting.full_pattern, text):
        return problem
    if setting.choices and text.lower() not in setting.choices:
        return problem
    return None


def setting_value(name: str, value: object) -> int | float | str:
    """The value of setting ``name`` as a Python model receives it, typed
    by the declaration: ``int`` for an integer, ``float`` for a number.

    A model passes what ``dbt.config.meta_get(name)`` gave it (the
    folder-level ``+meta`` of dbt_project.yml, generated from SETTINGS).
    Raises ValueError with the one-line problem when the value is missing or
    breaks the declared bounds."""
    setting = SETTINGS_BY_NAME[name]
    if value is None:
        raise ValueError(
            f"Setting {name} did not reach this model: its folder's +meta in "
            "dbt_project.yml lacks it (run python -m crm_analytics.settings "
            "--write)."
        )
    problem = check_value(setting, value)
    if problem:
        raise ValueError(problem)
    if setting.type == "integer":
        return int(float(str(value).strip()))
    if setting.type == "number":
        return float(str(value).strip())
    return str(value)


def environment_value(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Environment variable ``name``'s value, or its declared default."""
    setting = ENV_SETTINGS[name]
    value = (os.environ if environ is None else environ).get(name)
    return value if value is not None else str(setting.default or "")


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
    not_a_mapping = "--vars is not a YAML mapping: pass e.g. --vars '{random_seed: 7}'."
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, [not_a_mapping]
    if values is None:
        return {}, []
    if not isinstance(values, dict):
        return {}, [not_a_mapping]
    return values, []


def check_vars(values: dict) -> list[str]:
    """One line per bad value or unknown name in a ``--vars`` mapping."""
    problems = []
    for key, value in values.items():
        name = str(key)
        if isinstance(value, str) and JINJA.search(value):
            problems.append(
                f"Variable {name} holds Jinja ({{{{, {{% or {{#}}): --vars is "
                "rendered by dbt, so the publish refuses it; pass a plain value."
            )
        elif name == "raw_dir":
            problems.append(
                "Variable raw_dir is not a setting: set the environment "
                "variable CRM_RAW_DIR to the directory with the raw files."
            )
        elif name not in VAR_SETTINGS:
            close = difflib.get_close_matches(name, VAR_SETTINGS, n=1)
            guess = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"Variable {name} is not a setting{guess}: the settings are "
                "listed in README.md, section Settings."
            )
        elif VAR_SETTINGS[name].type in ("integer", "number"):
            problem = check_value(VAR_SETTINGS[name], value)
            if problem:
                problems.append(problem)
    return problems


def check_environment(
    environ: Mapping[str, str], build_path: Path, serving_path: Path
) -> list[str]:
    """One line per bad environment setting or path."""
    problems = []
    for setting in ENV_SETTINGS.values():
        value = environ.get(setting.name)
        if value is not None and (setting.full_pattern or setting.choices):
            problem = check_value(setting, value)
            if problem:
                problems.append(problem)
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
    dbt_args: list[str],
    environ: Mapping[str, str],
    build_path: Path,
    serving_path: Path,
) -> list[str]:
    """Every problem with the settings of a build, one line each."""
    values, problems = dbt_vars(dbt_args)
    return (
        problems
        + check_vars(values)
        + check_environment(environ, Path(build_path), Path(serving_path))
    )


# --- the environment of a dbt run -------------------------------------------

ENVIRONMENT_PARAMETERS: dict[str, str] = {
    "raw_dir": "CRM_RAW_DIR",
    "build_path": "CRM_DUCKDB_PATH",
    "serving_path": "CRM_SERVING_PATH",
    "temp_dir": "CRM_DUCKDB_TEMP",
    "memory_limit": "CRM_DUCKDB_MEMORY_LIMIT",
    "pii_hash_key": "CRM_PII_HASH_KEY",
    "target": "CRM_TARGET",
}
"""dbt_environment's keyword arguments and the variables they set."""


def dbt_environment(
    *,
    raw_dir: Path | str | None = None,
    build_path: Path | str | None = None,
    serving_path: Path | str | None = None,
    temp_dir: Path | str | None = None,
    memory_limit: str | None = None,
    pii_hash_key: str | None = None,
    target: str | None = None,
    project_dir: Path = PROJECT_DIR,
    profiles_dir: Path | str | None = None,
    target_path: Path | str | None = None,
    log_path: Path | str | None = None,
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment to run dbt (or the publish) in: ``base`` (default:
    this process's environment) with each setting given here under its
    declared variable (``raw_dir`` -> CRM_RAW_DIR, ``build_path`` ->
    CRM_DUCKDB_PATH, ...; see ENVIRONMENT_PARAMETERS), a setting not given
    keeping ``base``'s value or, unset, its declared default (dbt's profile
    and project read the same default). DBT_PROFILES_DIR is
    ``profiles_dir``, else ``base``'s, else ``project_dir/profiles``;
    ``target_path`` and ``log_path`` set DBT_TARGET_PATH and DBT_LOG_PATH
    (dbt's own folders, for a run beside others). ``extra`` goes last."""
    environment = dict(os.environ if base is None else base)
    given = {
        "raw_dir": raw_dir,
        "build_path": build_path,
        "serving_path": serving_path,
        "temp_dir": temp_dir,
        "memory_limit": memory_limit,
        "pii_hash_key": pii_hash_key,
        "target": target,
    }
    for parameter, value in given.items():
        if value is not None:
            environment[ENVIRONMENT_PARAMETERS[parameter]] = str(value)
    if profiles_dir is not None:
        environment["DBT_PROFILES_DIR"] = str(profiles_dir)
    else:
        environment.setdefault("DBT_PROFILES_DIR", str(project_dir / "profiles"))
    if target_path is not None:
        environment["DBT_TARGET_PATH"] = str(target_path)
    if log_path is not None:
        environment["DBT_LOG_PATH"] = str(log_path)
    environment.update(extra or {})
    return environment


# --- derived files ----------------------------------------------------------

WRITE_COMMAND = "python -m crm_analytics.settings --write"
BEGIN = "settings:start"
END = "settings:end"
MARKER = re.compile(r"(#|<!--) settings:start (\S+)")
MACRO_FILE = Path("macros") / "settings_declared.sql"


class DeclarationError(RuntimeError):
    """A derived file cannot be generated (a missing marker, an unknown
    setting in a model)."""


def _yaml_scalar(value: int | float | str | None) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _jinja_literal(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:.15g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_jinja_literal(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def python_model_settings(project_dir: Path = PROJECT_DIR) -> dict[str, list[str]]:
    """The settings each folder's Python models read with
    ``dbt.config.meta_get``, by folder (``models/intermediate/ml``)."""
    folders: dict[str, set[str]] = {}
    for path in sorted((project_dir / "models").rglob("*.py")):
        keys = meta_keys(path.read_text(encoding="utf-8"))
        unknown = sorted(set(keys) - set(SETTINGS_BY_NAME))
        if unknown:
            raise DeclarationError(
                f"{path.relative_to(project_dir)} reads {', '.join(unknown)} "
                "with dbt.config.meta_get, which are not settings: declare "
                "them in src/crm_analytics/settings.py (SETTINGS)."
            )
        if keys:
            folder = path.parent.relative_to(project_dir).as_posix()
            folders.setdefault(folder, set()).update(keys)
    return {folder: sorted(keys) for folder, keys in sorted(folders.items())}


def _config_calls(source: str) -> list[tuple[str, ast.Call]]:
    """(method, call) of each ``dbt.config.<method>(...)`` call."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "config"
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id == "dbt"
        ):
            calls.append((node.func.attr, node))
    return calls


def meta_keys(source: str) -> list[str]:
    """The keys a Python model's source reads with ``dbt.config.meta_get``."""
    return [
        call.args[0].value
        for method, call in _config_calls(source)
        if method == "meta_get"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ]


def config_get_keys(source: str) -> list[str]:
    """The keys a Python model's source reads with ``dbt.config.get``."""
    return [
        ast.unparse(call.args[0]) if call.args else ""
        for method, call in _config_calls(source)
        if method == "get"
    ]


def _wrap_comment(text: str, indent: str, width: int = 79) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}# ",
        break_on_hyphens=False,
    )


def vars_region(indent: str) -> list[str]:
    """The ``vars:`` entries of dbt_project.yml: each dbt variable's doc as
    a comment, then its default."""
    lines = []
    for setting in VAR_SETTINGS.values():
        lines += _wrap_comment(f"{setting.doc} Allowed: {setting.allowed}.", indent)
        lines.append(f"{indent}{setting.name}: {_yaml_scalar(setting.default)}")
    return lines


def meta_region(indent: str, names: list[str]) -> list[str]:
    """A folder's ``+meta``: each setting its Python models read, as a
    ``var()`` with the declared default (dbt renders dbt_project.yml with the
    ``--vars`` only, not with the ``vars:`` above)."""
    lines = [f"{indent}+meta:"]
    for name in names:
        default = _jinja_literal(VAR_SETTINGS[name].default)
        lines.append(f"{indent}  {name}: \"{{{{ var('{name}', {default}) }}}}\"")
    return lines


def _replace_regions(text: str, path: str, regions: dict[str, object]) -> str:
    """``text`` with each marked region replaced. ``regions`` maps a region
    id to a function of the marker's indentation giving the lines."""
    lines = text.split("\n")
    out: list[str] = []
    seen = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        marker = MARKER.match(stripped)
        if not marker:
            out.append(line)
            index += 1
            continue
        region = marker.group(2)
        if region not in regions:
            raise DeclarationError(
                f"{path}: no generated region '{region}' (the models reading "
                "it may have gone): remove its markers."
            )
        seen.add(region)
        indent = line[: len(line) - len(line.lstrip())]
        end = index + 1
        while end < len(lines) and END not in lines[end]:
            end += 1
        if end == len(lines):
            raise DeclarationError(f"{path}: region '{region}' has no end marker.")
        out.append(line)
        out += regions[region](indent)
        out.append(lines[end])
        index = end + 1
    missing = sorted(set(regions) - seen)
    if missing:
        raise DeclarationError(
            f"{path} lacks the generated region(s) {', '.join(missing)}: add "
            f"the lines '# {BEGIN} <region>' and '# {END}' where it belongs "
            f"(for 'meta:<folder>', under that folder), then run {WRITE_COMMAND}."
        )
    return "\n".join(out)


def render_dbt_project(text: str, project_dir: Path = PROJECT_DIR) -> str:
    """dbt_project.yml ``text`` with its generated regions up to date."""
    regions: dict[str, object] = {"vars": vars_region}
    for folder, names in python_model_settings(project_dir).items():
        regions[f"meta:{folder}"] = lambda indent, names=names: meta_region(
            indent, names
        )
    return _replace_regions(text, "dbt_project.yml", regions)


def render_macro() -> str:
    """macros/settings_declared.sql: every setting, for the dbt side."""
    lines = [
        f"{{#- Generated by `{WRITE_COMMAND}` from SETTINGS in",
        "    src/crm_analytics/settings.py: edit the declaration there, not",
        "    this file. Every setting by name: its type, whether it is an",
        "    environment variable, default, bounds, choices, the pattern its",
        "    text must match, the allowed values in words (the messages say",
        "    them) and a hint for the message; absent keys are empty. -#}",
        "{% macro settings_declared() %}",
        "    {{- return({",
    ]
    for number, setting in enumerate(SETTINGS):
        fields = {
            "type": setting.type,
            "env": setting.env,
            "default": setting.default,
            "low": setting.low,
            "high": setting.high,
            "choices": setting.choices,
            "pattern": setting.full_pattern,
            "allowed": setting.allowed,
            "hint": setting.hint,
        }
        lines.append(f"        '{setting.name}': {{")
        items = [
            (key, value)
            for key, value in fields.items()
            if key in ("type", "env") or value not in (None, "", ())
        ]
        for position, (key, value) in enumerate(items):
            comma = "," if position < len(items) - 1 else ""
            literal = _jinja_literal(value)
            entry = f"            '{key}': {literal}{comma}"
            if len(entry) > 79 and isinstance(value, str):
                lines.append(f"            '{key}':")
                parts = textwrap.wrap(
                    value, width=56, drop_whitespace=False, break_on_hyphens=False
                )
                for part_number, part in enumerate(parts):
                    tail = comma if part_number == len(parts) - 1 else ""
                    lines.append(f"                {_jinja_literal(part)}{tail}")
            else:
                lines.append(entry)
        lines.append("        }," if number < len(SETTINGS) - 1 else "        }")
    lines += ["    }) -}}", "{% endmacro %}", ""]
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_tables() -> list[str]:
    """The README's settings: one table of environment variables, one of
    dbt variables."""

    def row(setting: Setting) -> str:
        default = "none" if setting.default is None else f"`{setting.default}`"
        if setting.default == "":
            default = "empty"
        return (
            f"| `{setting.name}` | {default} | {_markdown_cell(setting.allowed)} "
            f"| {_markdown_cell(setting.doc)} |"
        )

    return [
        "Environment variables:",
        "",
        "| setting | default | allowed | what it does |",
        "|---|---|---|---|",
        *(row(setting) for setting in ENV_SETTINGS.values()),
        "",
        "dbt variables (`--vars '{name: value}'`, e.g. `make build "
        "BUILD_ARGS=\"--vars '{random_seed: 7}'\"`):",
        "",
        "| setting | default | allowed | what it does |",
        "|---|---|---|---|",
        *(row(setting) for setting in VAR_SETTINGS.values()),
    ]


def render_readme(text: str) -> str:
    """README.md ``text`` with its settings tables up to date."""
    return _replace_regions(
        text, "README.md", {"tables": lambda indent: readme_tables()}
    )


ARCHITECTURE_FILE = Path("docs") / "architecture.md"

#: Where settings are read, and the files that mention every setting only
#: because they are derived from the declaration (or check it generically).
READER_GLOBS = (
    "models/**/*.sql",
    "models/**/*.py",
    "macros/*.sql",
    "tests/**/*.sql",
    "src/crm_analytics/**/*.py",
    "profiles/profiles.yml",
    "Makefile",
)
GENERATED_READERS = frozenset(
    {
        "macros/settings_declared.sql",
        "macros/load_raw_check_settings.sql",
        "src/crm_analytics/settings.py",
    }
)


def setting_readers(project_dir: Path = PROJECT_DIR) -> dict[str, list[str]]:
    """Each setting's readers: the models, macros, tests and modules whose
    text reads it (``var('name'``, ``meta_get("name"``, or the environment
    variable's name), by file stem (models, macros) or path."""
    texts = {}
    for pattern in READER_GLOBS:
        for path in sorted(project_dir.glob(pattern)):
            relative = path.relative_to(project_dir).as_posix()
            if relative not in GENERATED_READERS:
                texts[relative] = path.read_text(encoding="utf-8")
    readers: dict[str, list[str]] = {}
    for setting in SETTINGS:
        if setting.env:
            needle = re.compile(rf"\b{re.escape(setting.name)}\b")
        else:
            name = re.escape(setting.name)
            needle = re.compile(
                rf"var\(\s*['\"]{name}['\"]|meta_get\(\s*['\"]{name}['\"]"
            )
        readers[setting.name] = [
            Path(path).stem if path.startswith(("models/", "macros/")) else path
            for path, text in texts.items()
            if needle.search(text)
        ]
    return readers


def architecture_table(project_dir: Path = PROJECT_DIR) -> list[str]:
    """docs/architecture.md's table: every setting and where it is read."""
    readers = setting_readers(project_dir)
    lines = ["| setting | kind | read by |", "|---|---|---|"]
    for setting in SETTINGS:
        kind = "environment variable" if setting.env else "dbt variable"
        where = ", ".join(f"`{reader}`" for reader in readers[setting.name])
        lines.append(f"| `{setting.name}` | {kind} | {where or '(no reader)'} |")
    return lines


def render_architecture(text: str, project_dir: Path = PROJECT_DIR) -> str:
    """docs/architecture.md ``text`` with its where-read table up to date."""
    return _replace_regions(
        text,
        ARCHITECTURE_FILE.as_posix(),
        {"where-read": lambda indent: architecture_table(project_dir)},
    )


def derived_files(project_dir: Path = PROJECT_DIR) -> dict[Path, str]:
    """Each derived file and the text it should have."""
    project = project_dir / "dbt_project.yml"
    readme = project_dir / "README.md"
    architecture = project_dir / ARCHITECTURE_FILE
    return {
        project: render_dbt_project(project.read_text(encoding="utf-8"), project_dir),
        project_dir / MACRO_FILE: render_macro(),
        readme: render_readme(readme.read_text(encoding="utf-8")),
        architecture: render_architecture(
            architecture.read_text(encoding="utf-8"), project_dir
        ),
    }


def stale_files(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """The derived files that differ from what the declaration gives."""
    return [
        path
        for path, text in derived_files(project_dir).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write_files(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Regenerate the derived files; returns those that changed."""
    written = []
    for path, text in derived_files(project_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.settings",
        description="Regenerate (--write) or check (--check) the files derived "
        "from the settings declared in crm_analytics.settings.",
    )
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate them")
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if one is stale",
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files(args.project_dir)
            for path in stale:
                print(
                    f"{path} is stale: run {WRITE_COMMAND} and commit the result",
                    file=sys.stderr,
                )
            return 1 if stale else 0
        for path in write_files(args.project_dir):
            print(f"wrote {path}")
    except DeclarationError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
