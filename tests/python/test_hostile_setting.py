"""Absurd settings stop the publish before dbt starts, each with one line
naming the setting and its allowed range (crm_analytics.settings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import run_dbt

from crm_analytics import publish as publish_module
from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import NUMERIC_SETTINGS


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
    ],
    ids=["seed_inf", "holdout_huge", "top_k_huge", "group_size_half", "jinja"],
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


def test_the_dbt_side_check_declares_the_same_bounds():
    """macros/load_raw_check_settings.sql (a bare dbt build) carries the
    bounds of crm_analytics.settings; they must not drift apart."""
    macro = (PROJECT_DIR / "macros" / "load_raw_check_settings.sql").read_text()
    declared = {
        name: (kind == "int", float(low), float(high))
        for name, kind, low, high in re.findall(
            r"'(\w+)': \['(int|number)', ([0-9.e+]+), ([0-9.e+]+)\]", macro
        )
    }
    expected = {
        name: (bounds.integer, float(bounds.low), float(bounds.high))
        for name, bounds in NUMERIC_SETTINGS.items()
    }
    assert declared == expected


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
            "{random_seed: 1e999, identity_max_group_size: 0.5}",
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
    assert "Traceback" not in result.stdout
