"""Time a one-day incremental load: a full build of the base data, then the
same build file built again after one daily batch arrives.

    python bench/daily.py --customers 100000

The data comes from ``python -m crm_analytics.generate --batch-days 1``: the
last day's orders (with late and updated ones), order lines, web and email
events sit in ``<raw>/<table>/<date>.csv``. The base build runs with those
folders moved aside; then they are put back and ``dbt build`` runs again on
the same file, so the four cleaning models run incrementally and everything
downstream is rebuilt. Prints both wall times, peak memory and where the
daily run spends its time (from dbt's run results), and files them under
``daily`` in the benchmark's JSON (``--results``, default bench/results.json)
and its page (``--out``, default docs/benchmarks.md), beside the full builds.
``--json`` also writes this run's figures alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
from pathlib import Path

import run  # bench/run.py: the harness's measuring helpers
from run import BENCH, DBT, PYTHON, log, measure

from crm_analytics.settings import environment_value

INCREMENTAL_MODELS = (
    "int_orders_validated",
    "int_order_lines_validated",
    "int_web_events_validated",
    "int_email_events_validated",
)
BATCHED_TABLES = ("orders", "order_lines", "web_events", "email_events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=BENCH / "results.json")
    parser.add_argument("--out", type=Path, default=run.REPO / "docs/benchmarks.md")
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="leave --results and --out alone",
    )
    args = parser.parse_args()
    work = args.work.resolve() / f"daily-{args.customers}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run.PROJECT = args.work.resolve() / "project"
    snapshot = run.snapshot_project(run.PROJECT)
    log(f"benchmarking a copy of the project in {run.PROJECT} ({snapshot})")

    data = work / "data"
    log(f"generating {args.customers:,} customers with one daily batch")
    generated = measure(
        [PYTHON, "-m", "crm_analytics.generate", "--customers", args.customers,
         "--seed", args.seed, "--out", data, "--batch-days", 1, "--quiet"],
        work / "generate.log",
        "generate",
        env={**os.environ, "PYTHONPATH": str(run.PROJECT / "src")},
    )  # fmt: skip
    if generated.returncode != 0:
        raise SystemExit(f"generator failed, see {generated.log}")
    raw = data / "raw"
    aside = work / "batches"
    aside.mkdir()
    batch_files = 0
    for table in BATCHED_TABLES:
        if (raw / table).is_dir():
            batch_files += len(list((raw / table).iterdir()))
            shutil.move(raw / table, aside / table)
    if batch_files == 0:
        raise SystemExit(f"no batch folders in {raw}")

    batch_rows = sum(_data_rows(path) for path in aside.rglob("*") if path.is_file())
    hash_key = secrets.token_hex(32)
    machine = run.machine_facts()
    result: dict = {
        "customers": args.customers,
        "project_snapshot": snapshot,
        "project": run.project_version(machine),
        "measured_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
        "batch_files": batch_files,
        "batch_rows": batch_rows,
    }
    for step in ("base", "daily"):
        if step == "daily":
            for table in BATCHED_TABLES:
                if (aside / table).is_dir():
                    shutil.move(aside / table, raw / table)
        log(f"dbt build: {step}")
        measured = measure(
            [DBT, "build"],
            work / f"dbt_{step}.log",
            f"dbt build ({step})",
            env=run.dbt_env(work, raw, f"target-{step}", hash_key),
        )
        if measured.returncode != 0:
            raise SystemExit(f"dbt build ({step}) failed, see {measured.log}")
        run_results, _ = run.load_results(work / f"target-{step}")
        times = {
            r["unique_id"].split(".")[-1]: r["execution_time"]
            for r in run_results["results"]
        }
        load = sum(s for node, s in times.items() if "on-run-start" in node)
        incremental = {m: round(times[m], 2) for m in INCREMENTAL_MODELS}
        result[step] = {
            "wall_seconds": round(measured.wall_seconds, 1),
            "peak_rss_gb": round(measured.peak_rss_bytes / run.GB, 2),
            "other_cpu_seconds": round(measured.other_cpu_seconds, 1),
            "raw_load_seconds": round(load, 1),
            "incremental_models_seconds": incremental,
            "all_nodes_seconds": round(sum(times.values()), 1),
            "slowest_nodes": run.slowest_nodes(run_results, 8),
        }
        log(f"  {step}: {json.dumps(result[step])}")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if not args.no_report:
        file_result(result, args.results, args.out)


def _data_rows(path: Path) -> int:
    """Lines after the header of a CSV batch file."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def file_result(result: dict, results: Path, out: Path) -> None:
    """Put ``result`` under ``daily`` in the benchmark JSON, one entry per
    size, and rewrite the benchmark page from it."""
    if not results.exists():
        raise SystemExit(f"{results} not found: run bench/run.py first")
    report = json.loads(results.read_text())
    daily = report.setdefault("daily", {})
    daily[str(result["customers"])] = result
    report["daily"] = dict(sorted(daily.items(), key=lambda x: int(x[0])))
    results.write_text(json.dumps(report, indent=2, default=str) + "\n")
    out.write_text(run.render(report))
    log(f"wrote {out} and {results}")


if __name__ == "__main__":
    main()
