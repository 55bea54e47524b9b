"""What a primary key costs DuckDB on an order-line table, with and without.

    python bench/primary_key_cost.py [--rows 25000000] [--memory-limit 5GB]

Why `fct_orders` and `fct_order_items` have no primary_key constraint:
DuckDB builds a primary key's index (ART) in memory when the table is
written. This writes --rows keys shaped like `order_item_id`
(`ORD-000000123-S1-2`) into a scratch file, once without and once with a
primary key, each in its own process under --memory-limit, and prints the
seconds, the peak RSS and the file size of each (or the error).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRITE = """
import json, os, resource, sys, time
import duckdb
rows, key, limit, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
con = duckdb.connect(path, config={"memory_limit": limit, "threads": 2,
                                   "temp_directory": path + ".tmp"})
con.execute(f"create table t (order_item_id varchar not null {key}, "
            "order_id varchar not null, quantity integer)")
clock = time.perf_counter()
con.execute(f'''insert into t
    select 'ORD-' || lpad((i // 3)::varchar, 9, '0') || '-S1-' || (i % 3 + 1),
           'ORD-' || lpad((i // 3)::varchar, 9, '0') || '-S1', (i % 5)::int
    from range({rows}) as r(i)''')
con.execute("checkpoint")
print(json.dumps({"seconds": round(time.perf_counter() - clock, 1),
                  "file_gb": round(os.path.getsize(path) / 1e9, 2)}))
"""


def write(rows: int, key: str, limit: str, folder: Path) -> dict:
    path = folder / f"keys-{'pk' if key else 'none'}.duckdb"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    clock = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRITE, str(rows), key, limit, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "primary_key": bool(key),
        # ru_maxrss of children is the largest so far: run without the key
        # first (the smaller), so the second figure is the keyed run's own
        "peak_rss_gb": round(peak * 1024 / 1e9, 2) if peak > before else None,
        "wall_seconds": round(time.perf_counter() - clock, 1),
    }
    if done.returncode == 0:
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))
    else:
        result["error"] = done.stderr.strip().splitlines()[-1][:300]
    path.unlink(missing_ok=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000_000)
    parser.add_argument("--memory-limit", default="5GB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for key in ("", "primary key"):
            result = write(args.rows, key, args.memory_limit, Path(folder))
            print(json.dumps({"rows": args.rows, **result}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
