"""Time a one-day incremental load: a full build of the base data, then the
same build file built again after one daily batch arrives, by ``dbt build``
and end to end by ``python -m crm_analytics.publish``.

    python bench/daily.py --customers 1000000

The data comes from ``python -m crm_analytics.generate --batch-days 1``: the
last day's orders (with late and updated ones), order lines, web and email
events sit in ``<raw>/<table>/<date>.csv``. The base build runs with those
folders moved aside, and the base is published (the serving file a daily
run replaces). Then they are put back and the base file is built again
twice, each time from a copy of the base file and of its dbt target folder
(so dbt parses partially, as a daily ``make build`` in the same checkout
does):

- ``dbt build`` (as the publish runs it, without unit tests): target <= 30 s
  at 1M customers;
- ``python -m crm_analytics.publish`` (dbt build, ``dbt docs generate``, the
  copy of the marts to the serving file): target <= 60 s end to end.

The project's dbt-duckdb plugin loads the raw files before any node and
reads only what its manifest (``raw._loaded_files``) has not seen: the
batch's files. Its log lines give the load's time and the files read. The
figures go under ``daily`` in the benchmark's JSON (``--results``, default
bench/results.json) and page (``--out``, default docs/benchmarks.md),
replacing any entry of other project files; ``--json`` also writes this
run's figures alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import time
from pathlib import Path

import run  # bench/run.py: the harness's measuring helpers
from run import BENCH, GB, LOAD_DONE, PUBLISH_STEPS, PYTHON, log, measure

from crm_analytics.ml.schedule import SCHEDULED_MODELS
from crm_analytics.settings import environment_value

INCREMENTAL_MODELS = (
    "int_orders_validated",
    "int_order_lines_validated",
    "int_web_events_validated",
    "int_email_events_validated",
)
BATCHED_TABLES = ("orders", "order_lines", "web_events", "email_events")
FULL_PARSE = "Unable to do partial parsing"
"""dbt's line when it parses the whole project again."""


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
    # its own copy: a run of bench/run.py may be using bench/.work/project
    run.PROJECT = args.work.resolve() / "project-daily"
    # the commit as the copy is made: one made during the run is not measured
    machine = run.machine_facts()
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
    batch_files = []
    for table in BATCHED_TABLES:
        if (raw / table).is_dir():
            batch_files += [
                f"{table}/{p.name}" for p in sorted((raw / table).iterdir())
            ]
            shutil.move(raw / table, aside / table)
    if not batch_files:
        raise SystemExit(f"no batch folders in {raw}")

    batch_rows = sum(_data_rows(path) for path in aside.rglob("*") if path.is_file())
    hash_key = secrets.token_hex(32)
    result: dict = {
        "customers": args.customers,
        "project_snapshot": snapshot,
        "project": run.project_version(machine),
        "measured_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
        "dbt_command": " ".join(["dbt", *map(str, run.build_command()[1:])]),
        "batch_files": len(batch_files),
        "batch_file_names": batch_files,
        "batch_rows": batch_rows,
    }
    database = work / "build.duckdb"
    serving = work / "crm.duckdb"

    def env(target: str) -> dict:
        return run.dbt_env(
            work, raw, target, hash_key, build_path=database, serving_path=serving
        )

    # the base: a full build, published
    log("dbt build: base")
    base = measure(
        run.build_command(),
        work / "dbt_base.log",
        "dbt build (base)",
        env=env("target-base"),
        watch=(LOAD_DONE,),
    )
    result["base"] = build_figures(base, work / "target-base")
    log(f"  base: {_short(result['base'])}")
    if base.returncode != 0:
        raise SystemExit(f"dbt build (base) failed, see {base.log}")
    log("publishing the base (not timed as part of the daily run)")
    published = measure(
        [PYTHON, "-m", "crm_analytics.publish", "--publish-only"],
        work / "publish_base.log",
        "publish (base)",
        env=env("target-base"),
    )
    if published.returncode != 0:
        raise SystemExit(f"publishing the base failed, see {published.log}")
    result["base_publish_seconds"] = round(published.wall_seconds, 1)
    keep = work / "base-copy"
    keep.mkdir()
    copy_seconds = copy_state(work, keep, database, "target-base")
    result["copy_seconds"] = round(copy_seconds, 1)
    log(f"  copied the base file and target folder aside in {copy_seconds:.0f} s")

    for table in BATCHED_TABLES:
        if (aside / table).is_dir():
            shutil.move(aside / table, raw / table)

    # the batch, by dbt build, on the base file itself (its copy is kept)
    shutil.copytree(work / "target-base", work / "target-daily")
    log("dbt build: the daily batch")
    daily = measure(
        run.build_command(),
        work / "dbt_daily.log",
        "dbt build (daily)",
        env=env("target-daily"),
        watch=(LOAD_DONE,),
    )
    result["daily"] = build_figures(daily, work / "target-daily")
    log(f"  daily: {_short(result['daily'])}")

    # the batch, end to end with the publish, from the same base
    # the last use of the copy: moved back, not copied (a 1M build file is ~10 GB)
    copy_state(
        keep, work, database, "target-base", target_as="target-publish", move=True
    )
    log("python -m crm_analytics.publish: the daily batch")
    end_to_end = measure(
        [PYTHON, "-m", "crm_analytics.publish"],
        work / "publish_daily.log",
        "publish (daily)",
        env=env("target-publish"),
        watch=(*PUBLISH_STEPS, LOAD_DONE),
    )
    text = (run.REPO / end_to_end.log).read_text(errors="replace")
    result["end_to_end"] = {
        "returncode": end_to_end.returncode,
        "wall_seconds": round(end_to_end.wall_seconds, 1),
        "peak_rss_gb": round(end_to_end.peak_rss_bytes / GB, 2),
        "other_cpu_seconds": round(end_to_end.other_cpu_seconds, 1),
        "steps": run.publish_steps(end_to_end),
        "load": run.raw_load_of(end_to_end),
        "full_parse": FULL_PARSE in text,
        "log": end_to_end.log,
    }
    log(f"  end to end: {_short(result['end_to_end'])}")
    shutil.rmtree(keep, ignore_errors=True)

    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if not args.no_report:
        file_result(result, args.results, args.out)
    failed = [
        step for step in ("daily", "end_to_end") if result[step]["returncode"] != 0
    ]
    if failed:
        raise SystemExit(f"the one-day run failed ({', '.join(failed)}), see {work}")


def build_figures(measured: run.Measured, target: Path) -> dict:
    """A measured dbt build's figures: wall time, peak memory, the raw load
    (from the plugin's log line) and the nodes' times."""
    text = (run.REPO / measured.log).read_text(errors="replace")
    figures: dict = {
        "returncode": measured.returncode,
        "wall_seconds": round(measured.wall_seconds, 1),
        "peak_rss_gb": round(measured.peak_rss_bytes / GB, 2),
        "other_cpu_seconds": round(measured.other_cpu_seconds, 1),
        "load": run.raw_load_of(measured),
        "full_parse": FULL_PARSE in text,
        "log": measured.log,
    }
    results = target / "run_results.json"
    if results.exists() and results.stat().st_mtime >= measured.started_at:
        run_results, _ = run.load_results(target)
        times = {
            r["unique_id"].split(".")[-1]: r["execution_time"] or 0
            for r in run_results["results"]
        }
        figures["dbt_elapsed_seconds"] = round(run_results["elapsed_time"], 1)
        figures["incremental_models_seconds"] = {
            m: round(times[m], 2) for m in INCREMENTAL_MODELS if m in times
        }
        figures["scheduled_fits_seconds"] = {
            m: round(times[m], 2) for m in SCHEDULED_MODELS if m in times
        }
        figures["fits_kept"] = [
            m for m in SCHEDULED_MODELS if f"{m}: kept the fit" in text
        ]
        figures["all_nodes_seconds"] = round(sum(times.values()), 1)
        figures["slowest_nodes"] = run.slowest_nodes(run_results, 8)
        figures["not_passed"] = [
            r["unique_id"]
            for r in run_results["results"]
            if r["status"] not in ("success", "pass", "no-op")
        ]
    return figures


def copy_state(
    source: Path,
    dest: Path,
    database: Path,
    target: str,
    *,
    target_as: str | None = None,
    move: bool = False,
) -> float:
    """Copy (or ``move``) the build file (and its WAL, if any) and the dbt
    target folder ``target`` from ``source`` to ``dest`` (the target folder
    renamed ``target_as``); returns the seconds it took."""
    started = time.perf_counter()
    for name in (database.name, f"{database.name}.wal"):
        (dest / name).unlink(missing_ok=True)
        if (source / name).exists():
            if move:
                os.replace(source / name, dest / name)
            else:
                shutil.copyfile(source / name, dest / name)
    to = dest / (target_as or target)
    shutil.rmtree(to, ignore_errors=True)
    if move:
        shutil.move(source / target, to)
    else:
        shutil.copytree(source / target, to)
    return time.perf_counter() - started


def _short(figures: dict) -> str:
    load = figures.get("load") or {}
    return (
        f"{figures['wall_seconds']} s, peak {figures['peak_rss_gb']} GB, exit "
        f"{figures['returncode']}, load {load.get('seconds')} s, files read "
        f"{load.get('files_read')}"
    )


def _data_rows(path: Path) -> int:
    """Lines after the header of a CSV batch file."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def file_result(result: dict, results: Path, out: Path) -> None:
    """Put ``result`` under ``daily`` in the benchmark JSON, one entry per
    size (entries of other project files dropped), and rewrite the page."""
    if not results.exists():
        raise SystemExit(f"{results} not found: run bench/run.py first")
    report = json.loads(results.read_text())
    daily = {
        k: v
        for k, v in report.get("daily", {}).items()
        if v.get("project_snapshot") == result["project_snapshot"]
    }
    dropped = sorted(set(report.get("daily", {})) - set(daily), key=int)
    if dropped:
        log(f"dropped the daily figures of other project files at {dropped}")
    daily[str(result["customers"])] = result
    report["daily"] = dict(sorted(daily.items(), key=lambda x: int(x[0])))
    run.write_report(report, results, out)


if __name__ == "__main__":
    main()
