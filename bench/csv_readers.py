"""DuckDB's CSV reader against pyarrow's, on the benchmark's raw files.

    python bench/csv_readers.py --customers 1000000

Issue 20 asked for the raw load to use a real multithreaded CSV reader and
to measure both candidates. Each reader runs in its own measured process
(wall time, peak RSS of the process, from bench/run.py's ``measure``) and
reads every raw CSV of ``bench/.work/data-<N>`` (generated when missing, as
``make bench`` does) into memory, one file at a time, every column as text,
on all threads:

- ``duckdb``: ``read_csv`` with the dialect the project's load fixes
  (comma, ``"`` quoting, a header, ``all_varchar``), into an in-memory
  table, with DuckDB's default thread count;
- ``pyarrow``: ``pyarrow.csv.read_csv`` with every column typed as string
  and empty values kept as '' (``use_threads``, its default);
- ``ingest``: the project's own load, ``python -m crm_analytics.ingest``
  into a fresh DuckDB file (DuckDB's reader plus every check of
  docs/bad_input.md, row numbers and the manifest's hashes): what the
  reader's time becomes in the build.

Both readers must return the same number of rows per file (checked). The
figures go to ``--json`` (default bench/csv_readers.json) and are quoted in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import run  # bench/run.py: the harness's measuring helpers
from run import BENCH, GB, PYTHON, log, measure

READERS = ("duckdb", "pyarrow")


def raw_csvs(raw: Path) -> list[Path]:
    """Every CSV of a raw directory: the tables' single files and their
    load batches, in name order."""
    return sorted(raw.glob("*.csv")) + sorted(raw.glob("*/*.csv"))


def read_duckdb(path: Path) -> int:
    import duckdb

    with duckdb.connect() as connection:
        connection.execute(
            "create table t as select * from read_csv(?, delim = ',', quote = '\"', "
            "escape = '\"', header = true, all_varchar = true, encoding = 'utf-8')",
            [str(path)],
        )
        return connection.execute("select count(*) from t").fetchone()[0]


def read_pyarrow(path: Path) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"'),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
        ),
        read_options=pacsv.ReadOptions(use_threads=True),
    )
    return table.num_rows


def child(reader: str, raw: Path) -> None:
    """Read every file with one reader; print one JSON line per file."""
    read = read_duckdb if reader == "duckdb" else read_pyarrow
    for path in raw_csvs(raw):
        started = time.perf_counter()
        rows = read(path)
        print(
            json.dumps(
                {
                    "file": path.relative_to(raw).as_posix(),
                    "bytes": path.stat().st_size,
                    "rows": rows,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            ),
            flush=True,
        )


def measured_reader(reader: str, raw: Path, work: Path) -> dict:
    measured = measure(
        [PYTHON, __file__, "--child", reader, "--raw", raw],
        work / f"csv-reader-{reader}.log",
        f"read with {reader}",
        env={**os.environ, "PYTHONPATH": str(run.PROJECT / "src")},
    )
    if measured.returncode != 0:
        raise RuntimeError(f"{reader} failed, see {measured.log}")
    files = [
        json.loads(line)
        for line in Path(measured.log).read_text().splitlines()
        if line.startswith("{")
    ]
    return {
        "wall_seconds": round(measured.wall_seconds, 2),
        "cpu_seconds": round(measured.cpu_seconds, 1),
        "peak_rss_gb": round(measured.peak_rss_bytes / GB, 2),
        "rows": sum(f["rows"] for f in files),
        "bytes": sum(f["bytes"] for f in files),
        "files": files,
    }


def measured_ingest(raw: Path, work: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        measured = measure(
            [PYTHON, "-m", "crm_analytics.ingest", "--raw-dir", raw,
             "--build-path", Path(scratch) / "load.duckdb"],
            work / "csv-reader-ingest.log",
            "the project's load",
            env={**os.environ, "PYTHONPATH": str(run.PROJECT / "src")},
        )  # fmt: skip
    if measured.returncode != 0:
        raise RuntimeError(f"the load failed, see {measured.log}")
    return {
        "wall_seconds": round(measured.wall_seconds, 2),
        "cpu_seconds": round(measured.cpu_seconds, 1),
        "peak_rss_gb": round(measured.peak_rss_bytes / GB, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--json", type=Path, default=BENCH / "csv_readers.json")
    parser.add_argument("--child", choices=READERS, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.raw)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    data = run.generate(args.customers, args.seed, args.work, force=False)
    raw = args.work / f"data-{args.customers}" / "raw"
    results = {
        "customers": args.customers,
        "commit": run.project_version(run.machine_facts()),
        "machine": run.machine_facts(),
        "data": {"reused": data.get("reused")},
    }
    for reader in READERS:
        log(f"reading {raw} with {reader}")
        results[reader] = measured_reader(reader, raw, args.work)
    rows = {r: {f["file"]: f["rows"] for f in results[r]["files"]} for r in READERS}
    if rows["duckdb"] != rows["pyarrow"]:
        differ = [
            f for f in rows["duckdb"] if rows["duckdb"][f] != rows["pyarrow"].get(f)
        ]
        sys.exit(f"the readers disagree on the rows of {differ}")
    log("loading with crm_analytics.ingest")
    results["ingest"] = measured_ingest(raw, args.work)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    for name in (*READERS, "ingest"):
        figures = results[name]
        log(
            f"{name}: {figures['wall_seconds']} s wall, "
            f"{figures['cpu_seconds']} s CPU, {figures['peak_rss_gb']} GB peak"
            + (f", {figures['rows']:,} rows" if "rows" in figures else "")
        )
    log(f"figures in {args.json}")


if __name__ == "__main__":
    main()
