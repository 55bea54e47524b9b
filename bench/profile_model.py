"""Run one dbt Python model outside dbt, on a built DuckDB file, to profile it.

A ``dbt run --select <model>`` also parses the project and opens the build
file through the project's dbt-duckdb plugin, which loads any raw file not
loaded yet (all of them with ``--full-refresh``), before the model starts.
This runs only the model: it takes the model's compiled code from a
manifest (``target/manifest.json`` of the build), points its ``dbt.ref``
at the tables of the build file (opened read-only) and calls ``model()``,
timing the call. The result is not written. Wrap it in a profiler:

    bench/.venv-ref/bin/py-spy record -r 50 -f raw -o churn.txt -- \\
        python bench/profile_model.py fct_customer_churn_scores \\
        --database bench/.work/size-1000000/build.duckdb \\
        --manifest bench/.work/size-1000000/target-build/manifest.json

(``PYTHONPATH=bench/.work/project/src`` to import the package of the
benchmarked snapshot rather than the working tree's.)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    manifest = json.loads(args.manifest.read_text())
    node = manifest["nodes"][f"model.crm_analytics.{args.model}"]
    if node.get("language") != "python" or not node.get("compiled_code"):
        raise SystemExit(f"{args.model} is not a compiled Python model")
    namespace: dict = {"__name__": "dbt_model"}
    exec(compile(node["compiled_code"], node["original_file_path"], "exec"), namespace)

    connection = duckdb.connect(config={"threads": args.threads})
    connection.execute(f"attach '{args.database}' as build (read_only)")
    dbt = namespace["dbtObj"](lambda name: connection.sql(f"select * from {name}"))
    started = time.perf_counter()
    result = namespace["model"](dbt, connection)
    if isinstance(result, duckdb.DuckDBPyRelation):
        result = result.df()
    seconds = time.perf_counter() - started
    print(json.dumps({"model": args.model, "seconds": round(seconds, 2),
                      "rows": len(result)}))  # fmt: skip


if __name__ == "__main__":
    main()
