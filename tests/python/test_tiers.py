"""The fast tier (``make test-fast``) runs no dbt: whatever starts dbt in it
fails the test that did, saying to mark it ``e2e``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BIN_DIR, publish_run, run_dbt, runs_dbt


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([str(BIN_DIR / "dbt"), "build"], True),
        (["dbt", "parse"], True),
        ("dbt run --select x", True),
        ([sys.executable, "-m", "crm_analytics.publish"], True),
        ([sys.executable, "-m", "crm_analytics.publish", "--publish-only"], False),
        ([sys.executable, "-m", "crm_analytics.generate", "--out", "x"], False),
        ([str(BIN_DIR / "streamlit"), "run", "app.py"], False),
        ([sys.executable, "-c", "print('dbt')"], False),
    ],
)
def test_runs_dbt_knows_dbt_and_the_publish(args, expected: bool) -> None:
    assert runs_dbt(args) is expected


def test_run_dbt_and_the_publish_refuse_in_the_fast_tier(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_TEST_TIER", "fast")
    with pytest.raises(pytest.fail.Exception, match="mark the test e2e"):
        run_dbt(["build"], tmp_path, tmp_path / "w.duckdb", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="mark the test e2e"):
        publish_run(tmp_path, tmp_path / "work")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    os.environ.get("CRM_TEST_TIER") != "fast",
    reason="the guard is on in make test-fast",
)
def test_the_fast_tier_refuses_dbt_however_it_is_started() -> None:
    with pytest.raises(pytest.fail.Exception, match="mark the test e2e"):
        subprocess.run([str(BIN_DIR / "dbt"), "--version"], capture_output=True)
