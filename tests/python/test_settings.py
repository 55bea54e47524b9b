"""One route per setting (issue 19): every setting is declared once in
crm_analytics.settings, and everything else is derived from that
declaration or checked equal to it here."""

from __future__ import annotations

import ast
import datetime
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
import yaml

from crm_analytics import settings
from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import (
    ENV_SETTINGS,
    SETTINGS,
    VAR_SETTINGS,
    WRITE_COMMAND,
    check_run,
    check_value,
    dbt_environment,
    setting_value,
)

MODELS_DIR = PROJECT_DIR / "models"
PYTHON_MODELS = sorted(MODELS_DIR.rglob("*.py"))


# --- derived files ------------------------------------------------------------


def test_derived_files_are_current():
    stale = settings.stale_files()
    assert not stale, (
        f"{', '.join(str(path) for path in stale)} differ from the declaration "
        f"in src/crm_analytics/settings.py: run {WRITE_COMMAND} and commit"
    )


def copy_project(tmp_path: Path) -> Path:
    """The files the derived ones are made from (and those the where-read
    table scans), in a scratch project."""
    project = tmp_path / "project"
    readers = [
        path for pattern in settings.READER_GLOBS for path in PROJECT_DIR.glob(pattern)
    ]
    for path in {
        PROJECT_DIR / "dbt_project.yml",
        PROJECT_DIR / "README.md",
        PROJECT_DIR / settings.MACRO_FILE,
        PROJECT_DIR / settings.ARCHITECTURE_FILE,
        *PYTHON_MODELS,
        *readers,
    }:
        target = project / path.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return project


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory) -> Path:
    """One scratch copy of the project for the cases that leave it as they
    found it."""
    return copy_project(tmp_path_factory.mktemp("settings"))


@pytest.mark.parametrize(
    "relative, old, new",
    [
        ("dbt_project.yml", "  random_seed: 42\n", "  random_seed: 7\n"),
        (
            "dbt_project.yml",
            "\"{{ var('random_seed', 42) }}\"",
            "\"{{ var('random_seed', 7) }}\"",
        ),
        ("README.md", "| `random_seed` | `42` |", "| `random_seed` | `7` |"),
        (str(settings.MACRO_FILE), "'high': 1000,", "'high': 10000,"),
        (
            str(settings.ARCHITECTURE_FILE),
            "| `clv_holdout_days` | dbt variable | `int_clv_holdout` |",
            "| `clv_holdout_days` | dbt variable | `fct_orders` |",
        ),
    ],
    ids=["project_var", "project_meta", "readme", "macro", "architecture"],
)
def test_a_derived_file_edited_by_hand_is_stale(
    shared_project, capsys, relative: str, old: str, new: str
):
    # each case regenerates what it edited, so the copy is shared
    project = shared_project
    assert settings.stale_files(project) == []
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert settings.stale_files(project) == [path]
    assert settings.main(["--check", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"{path} is stale: run {WRITE_COMMAND}" in err
    assert settings.main(["--write", "--project-dir", str(project)]) == 0
    assert settings.stale_files(project) == []
    assert path.read_text(encoding="utf-8") == text


def test_a_model_reading_an_undeclared_setting_is_refused(tmp_path, capsys):
    project = copy_project(tmp_path)
    model = project / "models" / "marts" / "ml" / "fct_customer_anomalies.py"
    model.write_text(
        model.read_text().replace(
            'dbt.config.meta_get("anomaly_return_p")',
            'dbt.config.meta_get("return_p")',
        )
    )
    assert settings.main(["--check", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert "fct_customer_anomalies.py reads return_p" in err
    assert "declare them in src/crm_analytics/settings.py" in err


def test_a_folder_of_python_models_without_its_meta_region_is_refused(tmp_path, capsys):
    project = copy_project(tmp_path)
    model = project / "models" / "marts" / "customers" / "py_model.py"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_text(
        'def model(dbt, session):\n    return dbt.config.meta_get("random_seed")\n'
    )
    assert settings.main(["--write", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert "lacks the generated region(s) meta:models/marts/customers" in err


def test_dbt_project_vars_are_the_declared_defaults():
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    declared = {name: setting.default for name, setting in VAR_SETTINGS.items()}
    assert project["vars"] == declared
    # same types too: 100 and 100.0 splice differently into SQL
    assert {k: type(v) for k, v in project["vars"].items()} == {
        k: type(v) for k, v in declared.items()
    }


def env_var_defaults(text: str) -> dict[str, str]:
    return dict(re.findall(r"env_var\('(\w+)', '([^']*)'\)", text))


def test_profile_defaults_are_the_declared_defaults():
    """profiles/profiles.yml reads the environment variables dbt needs before
    any macro exists; its defaults are checked, not generated."""
    profile = (PROJECT_DIR / "profiles" / "profiles.yml").read_text()
    found = env_var_defaults(profile)
    assert set(found) >= {"CRM_DUCKDB_PATH", "CRM_DUCKDB_TEMP", "CRM_TARGET"}
    for name, default in found.items():
        assert name in ENV_SETTINGS, f"profiles.yml reads undeclared {name}"
        assert default == ENV_SETTINGS[name].default, (
            f"profiles/profiles.yml defaults {name} to '{default}', the "
            f"declaration (src/crm_analytics/settings.py) to "
            f"'{ENV_SETTINGS[name].default}': make them equal"
        )
    # nothing else of the project gives an environment variable a default
    for path in [PROJECT_DIR / "dbt_project.yml", *PROJECT_DIR.glob("macros/*.sql")]:
        assert env_var_defaults(path.read_text()) == {}, path


def makefile_defaults() -> dict[str, str]:
    """The Makefile's ``NAME ?= value`` and ``NAME := value``, expanded."""
    values: dict[str, str] = {}
    text = (PROJECT_DIR / "Makefile").read_text()
    for name, value in re.findall(
        r"^(?:export )?(\w+) *[?:]?= *(.*)$", text, flags=re.MULTILINE
    ):
        values.setdefault(
            name,
            re.sub(
                r"\$\((\w+)\)", lambda m: values.get(m.group(1), m.group(0)), value
            ).strip(),
        )
    return values


def test_makefile_defaults_are_the_declared_defaults():
    defaults = makefile_defaults()
    assert "CRM_RAW_DIR" in defaults
    for name, setting in ENV_SETTINGS.items():
        if name in defaults:
            assert defaults[name] == setting.default, (
                f"the Makefile defaults {name} to '{defaults[name]}', the "
                f"declaration to '{setting.default}'"
            )


def test_the_readme_tables_list_every_setting_once():
    readme = (PROJECT_DIR / "README.md").read_text()
    for setting in SETTINGS:
        assert readme.count(f"| `{setting.name}` |") == 1, setting.name
    # raw_dir has one name for users
    assert "var `raw_dir`" not in readme
    assert (
        "{raw_dir:" not in (PROJECT_DIR / "docs" / "raw_data_contract.md").read_text()
    )


# --- the dbt side: the generated declaration and the one validator ----------


class MacroReturn(Exception):
    """dbt's return() in a macro, for plain Jinja."""

    def __init__(self, value):
        super().__init__()
        self.value = value


def _return(value):
    raise MacroReturn(value)


def _call(macro, *args):
    try:
        macro(*args)
    except MacroReturn as returned:
        return returned.value
    raise AssertionError(f"{macro.name} returned nothing")


@pytest.fixture(scope="module")
def dbt_macros() -> SimpleNamespace:
    """settings_declared and setting_problem, rendered with plain Jinja as
    dbt renders them (return(), modules.re, the do extension)."""
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals.update(
        {"return": _return, "modules": SimpleNamespace(re=re, datetime=datetime)}
    )
    macros = PROJECT_DIR / "macros"
    declared = environment.from_string(
        (macros / "settings_declared.sql").read_text()
    ).module
    environment.globals["settings_declared"] = lambda: _call(declared.settings_declared)
    problem = environment.from_string(
        (macros / "setting_problem.sql").read_text()
    ).module
    return SimpleNamespace(
        declared=lambda: _call(declared.settings_declared),
        problem=lambda name, value: _call(problem.setting_problem, name, value),
    )


def test_the_dbt_side_reads_the_declaration(dbt_macros):
    declared = dbt_macros.declared()
    assert list(declared) == [setting.name for setting in SETTINGS]
    for setting in SETTINGS:
        entry = declared[setting.name]
        assert entry["type"] == setting.type
        assert entry["env"] == setting.env
        assert entry.get("default", "") == (setting.default or "")
        assert entry.get("low") == setting.low
        assert entry.get("high") == setting.high
        assert tuple(entry.get("choices", ())) == setting.choices
        assert entry.get("pattern") == setting.full_pattern
        assert entry["allowed"] == setting.allowed
        assert entry.get("hint", "") == setting.hint


NUMERIC_VALUES = [
    "1",
    "0",
    "-1",
    "1.5",
    "1e3",
    "1e999",
    "nan",
    "inf",
    " 7 ",
    "100; drop table raw.orders",
    "0x10",
    "",
    "abc",
    True,
    4294967296,
    0.5,
]


@pytest.mark.parametrize(
    "name", [n for n, s in VAR_SETTINGS.items() if s.low is not None]
)
def test_dbt_and_python_give_the_same_numeric_verdict_and_message(dbt_macros, name):
    setting = VAR_SETTINGS[name]
    values = [
        *NUMERIC_VALUES,
        setting.default,
        setting.low,
        setting.high,
        setting.high + 1,
        f"{setting.high:.15g}",
    ]
    for value in values:
        python = check_value(setting, value) or ""
        assert dbt_macros.problem(name, value) == python, (name, value)
    assert check_value(setting, setting.default) is None


@pytest.mark.parametrize(
    "value, valid",
    [
        ("", True),
        ("2024-02-29", True),
        ("2024-06-30", True),
        (" 2024-06-30 ", True),
        ("2023-02-29", False),
        ("2024-02-30", False),
        ("2024-13-01", False),
        ("0000-01-01", False),
        ("24-06-30", False),
        ("last tuesday", False),
        ("2024-06-30'); drop table raw.orders; --", False),
    ],
)
def test_as_of_date_has_one_validator(dbt_macros, value, valid):
    problem = dbt_macros.problem("as_of_date", value)
    if valid:
        assert problem == ""
    else:
        assert problem == (
            f"Variable as_of_date must be a date written YYYY-MM-DD, got "
            f"'{value.strip()}'. Pass e.g. --vars '{{as_of_date: 2024-06-30}}', "
            "or leave it empty for the latest order date."
        )


def test_as_of_date_is_validated_by_setting_problem_only():
    """The one validator: the macros that read as_of_date hand it to
    setting_problem rather than parse the date themselves."""
    macros = PROJECT_DIR / "macros"
    readers = [
        path.name
        for path in sorted(macros.glob("*.sql"))
        if "var('as_of_date'" in path.read_text()
    ]
    assert readers == ["as_of_date_literal.sql"]
    literal = (macros / "as_of_date_literal.sql").read_text()
    assert "setting_problem('as_of_date', value)" in literal
    assert "strptime" not in literal and "re.fullmatch" not in literal
    check = (macros / "load_raw_check_settings.sql").read_text()
    assert "setting_problem(name, var(name))" in check
    assert "as_of_date" not in check.split("-#}", 1)[1]


@pytest.mark.parametrize("name", ["rfm_period_grain", "rfm_time_unit"])
def test_the_rfm_grains_are_day_or_week_in_any_case(dbt_macros, name):
    assert dbt_macros.problem(name, "Week") == ""
    assert dbt_macros.problem(name, "day") == ""
    assert dbt_macros.problem(name, "month") == (
        f"Variable {name} must be 'day' or 'week', got 'month'."
    )


# --- Python models: parameters through +meta and one typed reader -------------


def folder_meta(project: dict, folder: Path) -> dict:
    """The +meta dbt_project.yml gives a folder's models (merged from the
    project down to the folder, as dbt merges meta)."""
    node = project["models"]["crm_analytics"]
    meta = dict(node.get("+meta", {}))
    for part in folder.relative_to(MODELS_DIR).parts:
        node = node.get(part, {}) if isinstance(node, dict) else {}
        meta.update(node.get("+meta", {}))
    return meta


def setting_value_calls(source: str) -> list[tuple[str, str]]:
    """(name given to setting_value, key given to meta_get inside it)."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setting_value"
        ):
            name = node.args[0].value if node.args else None
            keys = settings.meta_keys(ast.unparse(node.args[1])) if node.args else []
            calls.append((name, keys[0] if keys else None))
    return calls


@pytest.mark.parametrize(
    "path", PYTHON_MODELS, ids=[path.stem for path in PYTHON_MODELS]
)
def test_python_models_read_settings_only_through_meta_and_setting_value(path):
    source = path.read_text()
    assert settings.config_get_keys(source) == [], (
        f"{path.name} reads dbt.config.get(...): custom config keys are "
        "deprecated; read the setting with setting_value(name, "
        "dbt.config.meta_get(name)) and run " + WRITE_COMMAND
    )
    keys = settings.meta_keys(source)
    calls = setting_value_calls(source)
    assert sorted(key for _, key in calls) == sorted(keys), (
        f"{path.name}: every dbt.config.meta_get(...) goes through setting_value"
    )
    for name, key in calls:
        assert name == key, f"{path.name}: setting_value({name!r}, meta_get({key!r}))"
        assert name in VAR_SETTINGS, name
    assert not re.search(r"\b(int|float)\(dbt\.", source), path.name
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    meta = folder_meta(project, path.parent)
    for key in keys:
        default = settings._jinja_literal(VAR_SETTINGS[key].default)
        assert meta.get(key) == f"{{{{ var('{key}', {default}) }}}}", (path, key)


@pytest.fixture
def custom_config_keys(monkeypatch):
    """dbt's own jsonschema check of YAML (dbt-core runs it only for a few
    adapters, not DuckDB), in process: a function of (contents, path) giving
    the keys of each CustomKeyInConfigDeprecation it would print."""
    from dbt import deprecations
    from dbt.jsonschemas import jsonschemas

    warned: list[tuple[str, dict]] = []
    monkeypatch.setattr(jsonschemas, "_can_run_validations", lambda: True)
    # adapter-specific aliases (BigQuery's dataset, project): none for DuckDB
    monkeypatch.setattr(jsonschemas, "_get_allowed_config_key_aliases", lambda: [])
    monkeypatch.setattr(
        deprecations, "warn", lambda name, *a, **kw: warned.append((name, kw))
    )

    def check(contents: dict, path: Path) -> list[str]:
        warned.clear()
        schema = (
            jsonschemas.project_schema()
            if path.name == "dbt_project.yml"
            else jsonschemas.resources_schema()
        )
        jsonschemas.jsonschema_validate(schema, contents, str(path))
        return [
            f"{kw['file']}: {kw['key_path']}.{kw['key']}"
            for name, kw in warned
            if name == "custom-key-in-config-deprecation"
        ]

    return check


def test_no_yaml_sets_a_custom_config_key(custom_config_keys):
    """Settings reach the Python models through meta, never as custom keys
    in a config block (deprecated since dbt 1.10)."""
    found = []
    for path in [PROJECT_DIR / "dbt_project.yml", *sorted(MODELS_DIR.rglob("*.yml"))]:
        found += custom_config_keys(yaml.safe_load(path.read_text()), path)
    assert found == [], found


def test_a_custom_config_key_would_be_caught(custom_config_keys):
    """The check above sees a custom key, as the models' YAML had before."""
    contents = {
        "version": 2,
        "models": [
            {"name": "m", "config": {"random_seed": "{{ var('random_seed') }}"}}
        ],
    }
    assert custom_config_keys(contents, Path("x.yml")) == [
        "x.yml: models[0].config.random_seed"
    ]


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("random_seed", 42, 42),
        ("random_seed", "7", 7),
        ("random_seed", "1e3", 1000),
        ("clv_monthly_discount_rate", 0.01, 0.01),
        ("clv_monthly_discount_rate", "0.02", 0.02),
        ("anomaly_magnitude_factor", 3, 3.0),
        ("recommendation_top_k", 10.0, 10),
    ],
)
def test_setting_value_types_by_the_declaration(name, value, expected):
    result = setting_value(name, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "random_seed",
            "1e999",
            "Variable random_seed must be a whole number from 0 to 4294967295, "
            "got '1e999'.",
        ),
        (
            "recommendation_top_k",
            0.5,
            "Variable recommendation_top_k must be a whole number from 1 to "
            "1000, got '0.5'.",
        ),
        ("random_seed", None, "Setting random_seed did not reach this model"),
    ],
)
def test_setting_value_refuses_what_the_declaration_refuses(name, value, message):
    with pytest.raises(ValueError) as error:
        setting_value(name, value)
    assert str(error.value).startswith(message)


# --- the publish's check ------------------------------------------------------


def test_check_run_refuses_a_raw_dir_variable_and_unknown_names(tmp_path):
    problems = check_run(
        ["--vars", "{raw_dir: /data, random_sed: 7, random_seed: 7}"],
        {},
        tmp_path / "build.duckdb",
        tmp_path / "crm.duckdb",
    )
    assert problems == [
        "Variable raw_dir is not a setting: set the environment variable "
        "CRM_RAW_DIR to the directory with the raw files.",
        "Variable random_sed is not a setting (did you mean random_seed?): the "
        "settings are listed in README.md, section Settings.",
    ]


def test_check_run_leaves_dates_and_choices_to_the_dbt_side(tmp_path):
    """One validator each: a bad as_of_date or grain reaches dbt, whose
    on-run-start hook names it (tests/python/test_hostile_setting.py)."""
    assert (
        check_run(
            ["--vars", "{as_of_date: '2024-02-30', rfm_time_unit: month}"],
            {},
            tmp_path / "build.duckdb",
            tmp_path / "crm.duckdb",
        )
        == []
    )


# --- the environment of a dbt run -------------------------------------------


def test_dbt_environment_sets_each_setting_under_its_declared_variable(tmp_path):
    base = {"PATH": "/bin", "CRM_DUCKDB_PATH": "old.duckdb"}
    environment = dbt_environment(
        raw_dir=tmp_path / "raw",
        temp_dir=tmp_path / "tmp",
        pii_hash_key="k" * 32,
        target="dev",
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
        extra={"PYTHONPATH": "src"},
        base=base,
    )
    assert environment == {
        "PATH": "/bin",
        "CRM_DUCKDB_PATH": "old.duckdb",
        "CRM_RAW_DIR": str(tmp_path / "raw"),
        "CRM_DUCKDB_TEMP": str(tmp_path / "tmp"),
        "CRM_PII_HASH_KEY": "k" * 32,
        "CRM_TARGET": "dev",
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "PYTHONPATH": "src",
    }
    assert base == {"PATH": "/bin", "CRM_DUCKDB_PATH": "old.duckdb"}
    assert set(settings.ENVIRONMENT_PARAMETERS.values()) <= set(ENV_SETTINGS)


def test_dbt_environment_profiles_dir(tmp_path):
    mine = {"DBT_PROFILES_DIR": "/etc/dbt"}
    assert dbt_environment(base=mine)["DBT_PROFILES_DIR"] == "/etc/dbt"
    assert dbt_environment(base=mine, profiles_dir=tmp_path)["DBT_PROFILES_DIR"] == str(
        tmp_path
    )
    assert dbt_environment(base={}, project_dir=tmp_path)["DBT_PROFILES_DIR"] == str(
        tmp_path / "profiles"
    )


def test_the_publish_and_the_bench_build_the_environment_with_it():
    """No environment dict for dbt written out by hand in the package or the
    bench (tests/python: see issue 19, switched after the test restructure)."""
    files = [
        *(PROJECT_DIR / "src").rglob("*.py"),
        *(PROJECT_DIR / "bench").glob("*.py"),
    ]
    for path in files:
        if path.name == "settings.py":
            continue
        text = path.read_text()
        assert '"DBT_PROFILES_DIR":' not in text, path
        assert '"CRM_RAW_DIR":' not in text, path


# --- dbt itself: the manifest ----------------------------------------------


@pytest.mark.e2e
def test_dbt_gives_the_python_models_their_settings_and_the_vars_override(
    tmp_path,
):
    """dbt parse (in-memory lint target): every Python model's meta holds
    the settings it reads, at the declared default, or at the value of
    --vars; no model reads a config key."""

    def parse(*args: str) -> dict:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                "parse",
                "--no-partial-parse",
                *args,
            ],
            cwd=PROJECT_DIR,
            env=dbt_environment(
                target="lint",
                target_path=tmp_path / "target",
                log_path=tmp_path / "logs",
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-3000:]
        return json.loads((tmp_path / "target" / "manifest.json").read_text())

    def python_models(manifest: dict) -> dict:
        return {
            node["name"]: node["config"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["language"] == "python"
        }

    models = python_models(parse())
    read = {name: config.get("meta_keys_used") for name, config in models.items()}
    assert read["int_segment_model"] == ["random_seed", "segment_min_purchase_days"]
    for name, config in models.items():
        assert not config.get("config_keys_used"), name
        for key in config.get("meta_keys_used") or []:
            assert config["meta"][key] == VAR_SETTINGS[key].default, (name, key)
    overridden = python_models(
        parse("--vars", "{random_seed: 7, clv_monthly_discount_rate: 0.02}")
    )
    assert overridden["int_propensity_models"]["meta"]["random_seed"] == 7
    assert overridden["int_churn_evaluation"]["meta"]["random_seed"] == 7
    clv = overridden["fct_customer_clv_predictions"]["meta"]
    assert clv["clv_monthly_discount_rate"] == 0.02
