"""The benchmark harness's pure helpers (bench/run.py, bench/bgnbd_fit.py):
reading the raw load from dbt's output, the publish's steps, and judging
the targets of the benchmark page. No dbt, no data."""

from __future__ import annotations

import sys

from crm_analytics.contract import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "bench"))

import bgnbd_fit  # noqa: E402
import run  # noqa: E402

DBT_STDOUT = """\
\x1b[0m19:12:25  Running with dbt=1.11.16
19:12:34  raw.crm_contacts: 645509 rows (crm_contacts.csv)
19:12:35  raw.orders: reloading in full: orders.csv changed since it was loaded
19:13:00  raw.orders: 9831501 rows (orders.csv)
19:13:27  raw.order_lines: 24367210 rows, 1 new file(s) (order_lines/2025-06-30.csv)
19:13:31  raw.survey_responses: 284921 rows, no new file
19:13:31  raw.transactions: no file, empty table
19:14:02  raw.web_events: 24015709 rows, 2 new file(s) (2 files (a.csv ... b.csv))
19:14:03  raw files loaded in 91.4 s
19:14:03  1 of 1 START hook: crm_analytics.on-run-start.0 ......... [RUN]
"""


def test_the_raw_load_comes_from_the_plugins_lines():
    load = run.raw_load(DBT_STDOUT)
    assert load["seconds"] == 91.4
    assert load["files_read"] == {
        "crm_contacts": "crm_contacts.csv",
        "orders": "orders.csv",
        "order_lines": "order_lines/2025-06-30.csv",
        "web_events": "2 files (a.csv ... b.csv)",
    }
    assert load["reloaded"] == {"orders": "orders.csv changed since it was loaded"}
    assert load["tables"]["survey_responses"] == {"rows": 284921, "read": None}
    assert load["tables"]["transactions"] == {"rows": 0, "read": None}


def test_the_raw_load_reads_dbt_log_lines_too():
    line = "\x1b[0m19:14:03.002166 [info ] [ThreadPool]: raw files loaded in 2.5 s"
    assert run.raw_load(line)["seconds"] == 2.5


def test_no_load_line_means_no_load():
    assert run.raw_load("19:00:00  Running with dbt=1.11.16\n") is None


def _measured(marks: dict[str, float], wall: float) -> run.Measured:
    return run.Measured(
        command=["python"],
        returncode=0,
        wall_seconds=wall,
        peak_rss_bytes=0,
        max_process_rss_bytes=0,
        cpu_seconds=0,
        other_cpu_seconds=0,
        timed_out=False,
        log="x.log",
        started_at=0,
        marks=marks,
    )


def test_the_publish_steps_run_from_mark_to_mark():
    marks = dict(zip(run.PUBLISH_STEPS, (0.4, 10.4, 14.0, 15.0), strict=True))
    steps = run.publish_steps(_measured(marks, 15.2))
    assert steps == {
        "start-up": 0.4,
        "dbt build": 10.0,
        "dbt docs generate": 3.6,
        "publish": 1.2,
    }
    # a failed build prints no docs line: the later steps are unknown
    steps = run.publish_steps(_measured({run.PUBLISH_STEPS[0]: 0.4}, 9.0))
    assert steps["start-up"] == 0.4
    assert steps["dbt build"] is None and steps["publish"] is None


def _report(memory_limit: str, wall: float, peak_gb: float) -> dict:
    return {
        "machine": {"git_commit": "abc1234", "project_snapshot": "digest"},
        "settings": {"target_customers": 1_000_000},
        "sizes": {
            "1000000": {
                "duckdb_memory_limit": memory_limit,
                "build": {
                    "returncode": 0,
                    "wall_seconds": wall,
                    "peak_rss_gb": peak_gb,
                    "peak_rss_bytes": int(peak_gb * run.GB),
                },
            }
        },
        "daily": {
            "1000000": {
                "project": "def5678",
                "project_snapshot": "other digest",
                "measured_at": "2026-12-06 10:00",
                "duckdb_memory_limit": run.DEFAULT_MEMORY_LIMIT,
                "daily": {"returncode": 0, "wall_seconds": 25.0},
                "end_to_end": {"returncode": 0, "wall_seconds": 75.0},
            }
        },
    }


def test_the_targets_are_judged_with_their_figures():
    rows = run.target_rows(_report(run.DEFAULT_MEMORY_LIMIT, 280.0, 7.5))
    build = rows[0]
    assert build["figure"] == "280 s, 7.50 GB peak"
    assert build["verdict"] == "met"
    daily_build, daily_end_to_end = rows[1], rows[2]
    assert daily_build["verdict"] == "met"
    assert daily_end_to_end["figure"] == "75.0 s"
    assert daily_end_to_end["verdict"] == "**missed**"
    # measured on other project files than the page's run: flagged
    assert "other code than this page's run" in daily_build["source"]
    # what was not measured says so
    assert all(row["verdict"].startswith("not measured") for row in rows[3:]), rows[3:]


def test_a_build_over_a_limit_misses_and_another_profile_is_not_judged():
    rows = run.target_rows(_report(run.DEFAULT_MEMORY_LIMIT, 280.0, 8.5))
    assert rows[0]["verdict"] == "**missed**"
    rows = run.target_rows(_report("5GB", 280.0, 7.5))
    assert rows[0]["verdict"].startswith("not judged: memory_limit 5GB")


def test_sections_of_other_code_are_not_kept():
    previous = {
        "daily": {
            "10000": {"project_snapshot": "a"},
            "1000000": {"project_snapshot": "b"},
        },
        "stress": {"project_snapshot": "b"},
    }
    assert run.same_code_sections(previous, "a") == {
        "daily": {"10000": {"project_snapshot": "a"}}
    }
    assert set(run.same_code_sections(previous, "b")) == {"daily", "stress"}
    assert run.same_code_sections(previous, None) == {}


def test_the_bgnbd_ratios_are_lifetimes_over_ours():
    params = {"r": 1.0, "alpha": 50.0, "a": 0.2, "b": 6.0}
    ours = {"wall": 1.0, "cpu": 0.5, "params": params}
    theirs = {"wall": 7.0, "cpu": 3.5, "params": {**params, "b": 6.06}}
    figures = bgnbd_fit.compare(ours, theirs)
    assert figures["cpu_ratio"] == 7.0
    assert figures["wall_ratio"] == 7.0
    assert abs(figures["max_rel_param_diff"] - abs(6.0 / 6.06 - 1)) < 1e-12
