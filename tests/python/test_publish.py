"""Blue/green publishing: only a passing build reaches the serving file,
readers keep a consistent version, and the file opens in DuckDB 1.4+."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.publish import (
    SERVING_STORAGE_VERSION,
    PublishError,
    build_and_publish,
    failed_nodes,
    main,
    publish,
    remove_abandoned_copies,
)


def test_a_failed_build_names_each_failing_node_and_why(tmp_path):
    """A model stopped by a mart's check constraint says which check (the
    message dbt 1.11 wrote for one, run_results.json); a failed test says
    where its rows are."""
    error = (
        "Runtime Error in model fct_nps_monthly "
        "(models/marts/satisfaction/fct_nps_monthly.sql)\n  Constraint Error: "
        "CHECK constraint failed on table fct_nps_monthly__dbt_tmp with "
        "expression CHECK((nps >= 1000))"
    )
    results = [
        {
            "unique_id": "model.crm_analytics.fct_nps_monthly",
            "status": "error",
            "message": error,
        },
        {
            "unique_id": "test.crm_analytics.unique_x",
            "status": "fail",
            "message": "Got 2 results, configured to fail if != 0",
        },
        {
            "unique_id": "model.crm_analytics.fct_orders",
            "status": "success",
            "message": "OK",
        },
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert failed_nodes(tmp_path) == [
        "error: model.crm_analytics.fct_nps_monthly Runtime Error in model "
        "fct_nps_monthly (models/marts/satisfaction/fct_nps_monthly.sql) "
        "Constraint Error: CHECK constraint failed on table "
        "fct_nps_monthly__dbt_tmp with expression CHECK((nps >= 1000))",
        "fail: test.crm_analytics.unique_x (failing rows: schema test_failures "
        "of the build file) Got 2 results, configured to fail if != 0",
    ]


def fake_build(path: Path, rows: int) -> Path:
    """A build file with a marts table of ``rows`` rows and a staging table
    that must not be published."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts; create schema staging")
        connection.execute(
            f"create table marts.t as select range as x from range({rows})"
        )
        connection.execute("create table staging.s as select 1 as y")
    return path


def count(path: Path) -> int:
    """Rows of marts.t seen by a new reader in another process (within one
    process DuckDB reuses an instance already open on the same path)."""
    script = (
        "import duckdb, sys; "
        "c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('select count(*) from marts.t').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_publish_copies_the_marts_only_in_the_compatible_storage_version(tmp_path):
    serving = tmp_path / "serve" / "crm.duckdb"
    result = publish(fake_build(tmp_path / "build.duckdb", 3), serving)
    assert (result.tables, result.rows) == (1, 3)
    with duckdb.connect(str(serving), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name || '.' || table_name from duckdb_tables()"
        ).fetchall()
        tags = connection.execute(
            "select tags from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchone()[0]
    assert tables == [("marts.t",)]
    assert tags["storage_version"].startswith(SERVING_STORAGE_VERSION)
    assert [p.name for p in serving.parent.iterdir()] == ["crm.duckdb"]


def test_a_reader_keeps_its_version_while_a_publish_replaces_the_file(tmp_path):
    serving = tmp_path / "crm.duckdb"
    publish(fake_build(tmp_path / "one.duckdb", 1), serving)
    with duckdb.connect(str(serving), read_only=True) as reader:
        assert reader.execute("select count(*) from marts.t").fetchone()[0] == 1
        # the publish neither waits for nor disturbs the open reader
        publish(fake_build(tmp_path / "two.duckdb", 2), serving)
        assert reader.execute("select count(*) from marts.t").fetchone()[0] == 1
        assert count(serving) == 2  # a new connection sees the new version
    assert count(serving) == 2


def test_missing_or_empty_build_does_not_touch_the_serving_file(tmp_path):
    serving = tmp_path / "crm.duckdb"
    publish(fake_build(tmp_path / "good.duckdb", 5), serving)
    with pytest.raises(PublishError, match="no build file"):
        publish(tmp_path / "absent.duckdb", serving)
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(PublishError, match="no tables in schema marts"):
        publish(tmp_path / "empty.duckdb", serving)
    assert count(serving) == 5
    assert (
        main(
            [
                "--publish-only",
                "--build-path",
                str(tmp_path / "absent.duckdb"),
                "--serving-path",
                str(serving),
            ]
        )
        == 1
    )


@pytest.mark.e2e
def test_a_failing_data_test_does_not_publish(tmp_path, capsys):
    # a copy of the project with one data test that always fails
    project = tmp_path / "project"
    files = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, target)
    (project / "tests" / "assert_always_fails.sql").write_text(
        "-- fails on purpose: one row\nselect 1 as reason\n"
    )
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-05,10.5\nC1,2024-02-05,20\n"
    )
    serving = tmp_path / "crm.duckdb"
    publish(fake_build(tmp_path / "previous.duckdb", 7), serving)
    monkeypatch_env = {
        "CRM_RAW_DIR": str(raw),
        "CRM_DUCKDB_TEMP": str(tmp_path / "duckdb_tmp"),
        "DBT_PROFILES_DIR": str(project / "profiles"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in monkeypatch_env.items():
            patch.setenv(key, value)
        with pytest.raises(PublishError) as failure:
            build_and_publish(
                tmp_path / "build.duckdb",
                serving,
                ["--select", "fct_orders", "assert_always_fails"],
                project_dir=project,
            )
    message = str(failure.value)
    assert "assert_always_fails" in message
    assert "test_failures" in message
    assert count(serving) == 7


@pytest.mark.e2e
def test_a_passing_build_is_published_with_its_docs(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\n"
        "C1,2024-01-05,10.5\nC1,2024-02-05,20\nC2,2024-03-01,7\n"
    )
    monkeypatch.setenv("CRM_RAW_DIR", str(raw))
    monkeypatch.setenv("CRM_DUCKDB_TEMP", str(tmp_path / "duckdb_tmp"))
    serving = tmp_path / "crm.duckdb"
    started = time.time()
    result = build_and_publish(tmp_path / "build.duckdb", serving)
    assert result.tables > 20
    with duckdb.connect(str(serving), read_only=True) as connection:
        schemas = connection.execute(
            "select distinct schema_name from duckdb_tables()"
        ).fetchall()
        customers = connection.execute(
            "select count(*) from marts.dim_customers"
        ).fetchone()[0]
    assert schemas == [("marts",)]
    assert customers == 2
    # the docs were generated by this build, beside its compiled SQL
    target = PROJECT_DIR / "target"
    assert (target / "catalog.json").stat().st_mtime >= started
    manifest = json.loads((target / "manifest.json").read_text())
    compiled = manifest["nodes"]["model.crm_analytics.fct_orders"]
    assert "int_orders_enriched" in compiled["compiled_code"]
    assert "{{" not in compiled["compiled_code"]


def test_copies_left_by_a_killed_publish_are_removed_not_those_in_progress(
    tmp_path,
):
    serving = tmp_path / "crm.duckdb"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    abandoned = tmp_path / f".crm.duckdb.{int(dead.stdout)}.tmp"
    in_progress = tmp_path / f".crm.duckdb.{os.getpid()}.tmp"
    unrelated = tmp_path / ".other.duckdb.1.tmp"
    for path in (abandoned, Path(f"{abandoned}.wal"), in_progress, unrelated):
        path.write_bytes(b"x")
    assert sorted(remove_abandoned_copies(serving)) == sorted(
        [abandoned, Path(f"{abandoned}.wal")]
    )
    assert in_progress.exists() and unrelated.exists()
    publish(fake_build(tmp_path / "build.duckdb", 2), serving)
    assert count(serving) == 2


def test_the_publish_builds_without_unit_tests_unless_asked():
    from crm_analytics.publish import build_arguments

    assert build_arguments([]) == ["--exclude-resource-type", "unit_test"]
    assert build_arguments(["--select", "staging"]) == [
        "--select",
        "staging",
        "--exclude-resource-type",
        "unit_test",
    ]
    assert build_arguments(["--with-unit-tests"]) == []
    assert build_arguments(["--resource-type", "unit_test"]) == [
        "--resource-type",
        "unit_test",
    ]
