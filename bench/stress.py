"""Stress run: does a warehouse of 100M order lines build within the machine?

    python bench/stress.py [--order-lines 100000000] [--customers 1000000]

The generator holds all its customers in memory (about 9 GB at 1M), so the
stress data is made from the benchmark's generated data set instead: its
orders and order lines are written again and again under new order ids
(``<id>-S<copy>``; the last copy only in part, chosen by a hash of the
order id) until the lines reach ``--order-lines``. The customers, products,
tickets, surveys and web and email events stay as generated: the same
customers, each with several times the purchases. The raw messiness of the
copies is the original's (ids are trimmed before the suffix).

Then one ``dbt build`` runs into a scratch file with the default settings
(the profile's two dbt threads and DuckDB memory_limit, as ``make build``
builds: without dbt's unit tests), measured like the benchmark's builds
(wall time, peak RSS of the process tree, the raw load from the plugin's
log line, per stage and slowest nodes), with the largest size DuckDB's
``temp_directory`` reached (its spill), polled every few seconds. Target:
<= 1,200 s and <= 16 GB at 100M lines. A failed build is reported with
what failed, not hidden. The figures go under ``stress`` in the benchmark's
JSON (``--results``) and page (``--out``). The scratch build file is
deleted afterwards unless ``--keep``.

``--order-lines`` below the base data's lines writes one partial copy (a
share of the orders), so a small run (``--customers 2000 --order-lines
300000``) tries the whole path in a few minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

import duckdb
import run  # bench/run.py: the harness's measuring helpers
from run import BENCH, GB, LOAD_DONE, log, measure

from crm_analytics.settings import environment_value

REPEATED = ("orders", "order_lines")


def csv_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def count_lines(path: Path) -> int:
    """Data rows of a CSV: lines after the header."""
    with path.open("rb") as handle:
        return max(
            sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
            - 1,
            0,
        )


def repeat_orders(source: Path, dest: Path, target_lines: int) -> dict:
    """Write ``dest``/orders.csv and order_lines.csv as copies of
    ``source``'s under new order ids, until ``target_lines`` lines."""
    base_lines = count_lines(source / "order_lines.csv")
    if base_lines == 0:
        raise SystemExit(f"{source / 'order_lines.csv'} has no lines")
    copies = target_lines / base_lines
    full = math.floor(copies)
    # share of the orders (by a hash of their id) taken in the last copy
    part = round(copies - full, 4)
    log(
        f"{base_lines:,} lines in the base data: {full} full copies"
        + (f" and {part:.1%} of a copy" if part else "")
    )
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    for table in REPEATED:
        clean_id = "nullif(trim(order_id), '')"
        last = full + (1 if part else 0)
        query = f"""
            copy (
                select source.* replace (
                    case when copy = 1 or {clean_id} is null then order_id
                         else {clean_id} || '-S' || copy end as order_id
                )
                from read_csv({csv_literal(source / f"{table}.csv")},
                    all_varchar = true, header = true, delim = ',', quote = '"',
                    escape = '"') as source
                cross join range(1, {last + 1}) as copies(copy)
                where copy <= {full}
                   or hash(coalesce({clean_id}, '')) % 10000 < {int(part * 10000)}
            ) to {csv_literal(dest / f"{table}.csv")} (header, delimiter ',')
        """
        started = time.perf_counter()
        con.execute(query)
        log(f"  wrote {table}.csv in {time.perf_counter() - started:.0f} s")
    con.close()
    return {
        "base_order_lines": base_lines,
        "full_copies": full,
        "part_of_last_copy": part,
    }


def link_or_copy(source: Path, dest: Path) -> None:
    """A hard link to ``source`` (the raw loader refuses symbolic links,
    which can point anywhere), or a copy across file systems."""
    if source.is_dir():
        shutil.copytree(source, dest)
        return
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


class SpillWatch:
    """Polls the size of a directory in a thread; keeps the largest."""

    def __init__(self, path: Path, interval: float = 5.0) -> None:
        self.path, self.interval = path, interval
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _size(self) -> int:
        total = 0
        for root, _, files in os.walk(self.path):
            for name in files:
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    total += os.stat(os.path.join(root, name)).st_size
        return total

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.largest = max(self.largest, self._size())

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def failures(run_results: dict) -> list[dict]:
    """Nodes that did not pass, errors and failures before the skipped."""
    failed = [
        {
            "node": r["unique_id"],
            "status": r["status"],
            "message": (r.get("message") or "")[:300],
        }
        for r in run_results["results"]
        if r["status"] not in ("success", "pass", "no-op")
    ]
    return sorted(failed, key=lambda f: f["status"] == "skipped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order-lines", type=int, default=100_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="raw folder to repeat (default: the benchmark's data for "
        "--customers, generated when missing or made by another generator)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--results", type=Path, default=BENCH / "results.json")
    parser.add_argument("--out", type=Path, default=run.REPO / "docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the build file")
    parser.add_argument(
        "--dbt-threads",
        type=int,
        default=None,
        help="models dbt runs at once (default: the profile's 2); each DuckDB "
        "query still uses the profile's DuckDB threads",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="leave --results and --out alone"
    )
    args = parser.parse_args()
    if args.order_lines < 1:
        raise SystemExit("--order-lines must be at least 1")
    threads = [] if args.dbt_threads is None else ["--threads", args.dbt_threads]
    command = [*run.build_command(), *threads]
    if args.dbt_threads not in (None, 2):
        log(f"--dbt-threads {args.dbt_threads}: not the default settings the "
            "target is stated for; the page will say so")  # fmt: skip
    args.work = args.work.resolve()
    work = args.work / f"stress-{args.order_lines}"
    shutil.rmtree(work, ignore_errors=True)
    raw = work / "raw"
    raw.mkdir(parents=True)
    # its own copy: a run of bench/run.py may be using bench/.work/project
    run.PROJECT = args.work / "project-stress"
    # the commit as the copy is made: one made during the run is not measured
    machine = run.machine_facts()
    snapshot = run.snapshot_project(run.PROJECT)
    log(f"benchmarking a copy of the project in {run.PROJECT} ({snapshot})")

    if args.source is None:
        run.generate(args.customers, args.seed, args.work, force=False)
        source = args.work / f"data-{args.customers}" / "raw"
    else:
        source = args.source.resolve()
    for table in REPEATED:
        if not (source / f"{table}.csv").is_file():
            raise SystemExit(f"{source} has no {table}.csv to repeat")
    for path in sorted(source.iterdir()):
        if path.stem not in REPEATED:
            link_or_copy(path, raw / path.name)
    log(f"writing the stress data to {raw}")
    started = time.perf_counter()
    result: dict = {
        "order_lines_target": args.order_lines,
        "customers": args.customers,
        "source": str(source),
        "project_snapshot": snapshot,
        "project": run.project_version(machine),
        "measured_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
        "dbt_threads": args.dbt_threads or 2,
        "dbt_command": " ".join(["dbt", *map(str, command[1:])]),
        **repeat_orders(source, raw, args.order_lines),
    }
    result["data_seconds"] = round(time.perf_counter() - started, 1)
    result["raw_rows"] = {t: count_lines(raw / f"{t}.csv") for t in REPEATED}
    result["raw_gb"] = round(sum(p.stat().st_size for p in raw.iterdir()) / GB, 2)
    log(f"stress data: {json.dumps(result['raw_rows'])}, {result['raw_gb']} GB")

    env = run.dbt_env(work, raw, "target", secrets.token_hex(32))
    spill = Path(env["CRM_DUCKDB_TEMP"])
    log("dbt build")
    with SpillWatch(spill) as watch:
        measured = measure(
            command,
            work / "dbt_build.log",
            "dbt build",
            env=env,
            watch=(LOAD_DONE,),
        )
    result["build"] = {
        "returncode": measured.returncode,
        "wall_seconds": round(measured.wall_seconds, 1),
        "peak_rss_gb": round(measured.peak_rss_bytes / GB, 2),
        "max_process_rss_gb": round(measured.max_process_rss_bytes / GB, 2),
        "other_cpu_seconds": round(measured.other_cpu_seconds, 1),
        "largest_spill_gb": round(watch.largest / GB, 2),
        "log": measured.log,
    }
    database = work / "build.duckdb"
    if database.exists():
        result["build"]["database_gb"] = round(database.stat().st_size / GB, 2)
    result["load"] = run.raw_load_of(measured)
    target = work / "target"
    results_file = target / "run_results.json"
    if results_file.exists() and results_file.stat().st_mtime >= measured.started_at:
        run_results, manifest = run.load_results(target)
        result["stages"] = run.stage_table(
            run_results, manifest, measured.samples, result["load"]
        )
        result["slowest_nodes"] = run.slowest_nodes(run_results, 10)
        result["not_passed"] = failures(run_results)
        if database.exists() and measured.returncode == 0:
            with duckdb.connect(str(database), read_only=True) as con:
                result["mart_rows"] = {
                    t: con.sql(f"select count(*) from marts.{t}").fetchone()[0]
                    for t in ("fct_order_items", "fct_orders", "dim_customers")
                }
    log(f"build: {json.dumps(result['build'])}")
    if not args.keep:
        database.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
    text = json.dumps(result, indent=2)
    (work / "stress.json").write_text(text + "\n")
    print(text)
    if not args.no_report:
        if not args.results.exists():
            raise SystemExit(f"{args.results} not found: run bench/run.py first")
        report = json.loads(args.results.read_text())
        report["stress"] = result
        run.write_report(report, args.results, args.out)
    if measured.returncode != 0:
        raise SystemExit(
            f"dbt build failed (rc {measured.returncode}), see {measured.log}"
        )


if __name__ == "__main__":
    main()
