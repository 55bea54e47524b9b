"""Absurd settings stop the publish before dbt starts, each with one line
naming the setting and its allowed range (crm_analytics.settings). The
dbt side reads the same declaration (tests/python/test_settings.py checks
that its macro and messages equal the Python ones): a bare dbt build names
bad settings too, a raw directory that is missing is named, and one whose
path holds quotes and spaces is read as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    RAW_ERROR_WORDS,
    assert_one_clear_stop,
    build_fixture,
    publish_run,
    run_dbt,
)

from crm_analytics import publish as publish_module


def run_main(monkeypatch, capsys, tmp_path: Path, *argv: str, **environ: str):
    """publish main() with dbt and the publish replaced by a tripwire:
    returns (exit code, stderr, whether dbt would have run)."""
    ran = []

    def tripwire(*args, **kwargs):
        ran.append(args)
        raise publish_module.PublishError("tripwire: dbt would have run")

    monkeypatch.setattr(publish_module, "build_and_publish", tripwire)
    monkeypatch.setattr(publish_module, "publish", tripwire)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    argv = list(argv)
    if "--build-path" not in argv:
        argv += ["--build-path", str(tmp_path / "build.duckdb")]
    if "--serving-path" not in argv:
        argv += ["--serving-path", str(tmp_path / "crm.duckdb")]
    code = publish_module.main(argv)
    return code, capsys.readouterr().err, bool(ran)


@pytest.mark.parametrize(
    "vars_text, expected",
    [
        (
            "{random_seed: 1e999}",
            "Variable random_seed must be a whole number from 0 to 4294967295, "
            "got '1e999'.",
        ),
        (
            "{clv_holdout_days: 99999999999}",
            "Variable clv_holdout_days must be a whole number from 1 to 3660, "
            "got '99999999999'.",
        ),
        (
            "{recommendation_top_k: 1e9}",
            "Variable recommendation_top_k must be a whole number from 1 to 1000, "
            "got '1e9'.",
        ),
        (
            "{identity_max_group_size: 0.5}",
            "Variable identity_max_group_size must be a whole number from 1 to "
            "1000, got '0.5'.",
        ),
        (
            '{as_of_date: "{{ 7 * 7 }}"}',
            "Variable as_of_date holds Jinja",
        ),
        (
            "{raw_dir: /data}",
            "Variable raw_dir is not a setting: set the environment variable "
            "CRM_RAW_DIR",
        ),
        (
            "{random_sed: 7}",
            "Variable random_sed is not a setting (did you mean random_seed?)",
        ),
    ],
    ids=[
        "seed_inf",
        "holdout_huge",
        "top_k_huge",
        "group_size_half",
        "jinja",
        "raw_dir_var",
        "misspelt",
    ],
)
def test_absurd_var_stops_before_dbt_with_its_range(
    monkeypatch, capsys, tmp_path, vars_text, expected
):
    code, err, ran = run_main(monkeypatch, capsys, tmp_path, "--vars", vars_text)
    assert not ran, err
    assert code == 1
    lines = [line for line in err.splitlines() if expected in line]
    assert len(lines) == 1, err


@pytest.mark.parametrize("memory", ["lots", "-5GB", "0GB"])
def test_bad_memory_limit_stops_before_dbt(monkeypatch, capsys, tmp_path, memory):
    code, err, ran = run_main(
        monkeypatch, capsys, tmp_path, CRM_DUCKDB_MEMORY_LIMIT=memory
    )
    assert not ran and code == 1, err
    assert "CRM_DUCKDB_MEMORY_LIMIT must be a positive size with a unit" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2, err


def test_serving_path_equal_to_build_path_stops(monkeypatch, capsys, tmp_path):
    same = str(tmp_path / "one.duckdb")
    code, err, ran = run_main(
        monkeypatch, capsys, tmp_path, "--build-path", same, "--serving-path", same
    )
    assert not ran and code == 1, err
    assert "CRM_SERVING_PATH must differ from CRM_DUCKDB_PATH" in err


def test_good_settings_reach_dbt(monkeypatch, capsys, tmp_path):
    code, err, ran = run_main(
        monkeypatch,
        capsys,
        tmp_path,
        "--vars",
        "{random_seed: 7, clv_holdout_days: 90, association_min_support: 1.01}",
        CRM_DUCKDB_MEMORY_LIMIT="2GB",
    )
    assert ran, err


@pytest.mark.e2e
def test_bare_dbt_build_checks_the_bounds_too(tmp_path):
    """dbt build without the publish: the on-run-start check names the
    setting and its range, before any model runs."""
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-01,1\n"
    )
    result = run_dbt(
        [
            "build",
            "--select",
            "staging",
            "--vars",
            "{random_seed: 1e999, identity_max_group_size: 0.5, raw_dir: /x}",
        ],
        raw_dir,
        tmp_path / "build.duckdb",
        tmp_path,
    )
    assert result.returncode != 0
    assert (
        "Variable random_seed must be a whole number from 0 to 4294967295, "
        "got '1e999'." in result.stdout
    ), result.stdout[-4000:]
    assert (
        "Variable identity_max_group_size must be a whole number from 1 to "
        "1000, got '0.5'." in result.stdout
    )
    assert (
        "Variable raw_dir is not a setting: set the environment variable "
        "CRM_RAW_DIR to the directory with the raw files." in result.stdout
    )
    assert "Traceback" not in result.stdout


# --- bad settings in a build -------------------------------------------------


@build_fixture(scope="session")
def bad_settings_output(tmp_path_factory) -> str:
    """One run with several bad settings at once: all are listed."""
    root = tmp_path_factory.mktemp("settings")
    raw_dir = root / "exports[1]"
    raw_dir.mkdir()
    (raw_dir / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-01,1\n"
    )
    work = root / "work"
    vars_text = (
        "{as_of_date: '2024-02-30', "
        "max_price_to_list_ratio: '100; drop table raw.orders'}"
    )
    # A bare dbt build: the dbt-side check (the publish checks the numeric
    # settings before dbt starts, the tests above).
    result = run_dbt(
        ["build", "--select", "staging", "--vars", vars_text],
        raw_dir,
        work / "build.duckdb",
        work,
    )
    output = result.stdout
    assert result.returncode != 0, output[-4000:]
    assert output.count("Encountered an error") == 1, output[-4000:]
    for words in RAW_ERROR_WORDS:
        assert words not in output, output[-4000:]
    return output


@pytest.mark.parametrize(
    "expected",
    [
        "as_of_date must be a date written YYYY-MM-DD, got '2024-02-30'",
        "max_price_to_list_ratio must be a number from 1 to 1000000, "
        "got '100; drop table raw.orders'",
        "contains * ? [ or ], which DuckDB reads as a file pattern",
    ],
    ids=[
        "impossible_as_of_date",
        "sql_in_numeric_var",
        "glob_in_raw_dir",
    ],
)
def test_bad_setting_is_named(bad_settings_output: str, expected: str) -> None:
    assert expected in bad_settings_output


@pytest.mark.e2e
def test_as_of_date_that_is_sql_is_refused(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-01,1\n"
    )
    value = "2024-06-30'); drop table raw.orders; --"
    result = publish_run(
        raw_dir, tmp_path / "work", "--vars", f'{{as_of_date: "{value}"}}'
    )
    output = assert_one_clear_stop(result, tmp_path / "work")
    assert f"as_of_date must be a date written YYYY-MM-DD, got '{value}'" in output


@pytest.mark.e2e
def test_missing_raw_dir_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no such dir"
    result = publish_run(missing, tmp_path / "work")
    output = assert_one_clear_stop(result, tmp_path / "work")
    assert f"raw_dir '{missing}' holds no files (or does not exist)" in output
    assert "Set CRM_RAW_DIR" in output


def test_the_raw_dir_with_quotes_is_read_not_spliced(planted_build) -> None:
    """The shared data set (planted.py) is built from a raw directory whose
    path holds a quote, double quotes and spaces: every file of it is read
    (the load records each under its path in the raw directory)."""
    warehouse, planted = planted_build
    assert "'" in str(planted.raw_dir) and '"' in str(planted.raw_dir)
    files = warehouse.query("select distinct _source_file from raw.orders")
    assert list(files["_source_file"]) == ["orders.csv"]
    loaded = warehouse.query("select distinct file from raw._loaded_files order by 1")
    assert "orders.csv" in list(loaded["file"])
