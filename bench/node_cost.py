"""dbt's fixed cost per node, measured on projects of trivial nodes.

    python bench/node_cost.py [--sizes 50,250] [--threads 2]

Issue 20 asked to measure dbt's per-node cost before merging models. For
each kind of node the project has (a SQL table, a data test, a Python
table) and each size N, this writes a scratch dbt project on DuckDB with N
nodes of that kind that do nearly nothing (``select 1 as x``; a
``not_null`` test on a one-row table; a Python model returning one row),
parses it, then measures ``dbt build`` (wall time, bench/run.py's
``measure``) with the project's dbt, adapter and thread count. The slope
between the sizes is dbt's cost per node of that kind on this machine (no
data: what remains is dbt's scheduling, compiling, logging, the adapter's
statements and the metadata it writes); the intercept is its start.

It then counts the nodes of each kind in the project's manifest
(``target/manifest.json`` of the last build, e.g. ``make demo``) and prints
what they cost at those rates: the part of any build's time that only
fewer nodes can remove. Figures go to ``--json`` (default
bench/node_cost.json) and are quoted in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import run  # bench/run.py: the harness's measuring helpers
from run import BENCH, DBT, REPO, log, measure

from crm_analytics.settings import dbt_environment

KINDS = ("sql_table", "test", "python_table")

PROFILE = """node_cost:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      threads: {threads}
"""


def write_project(root: Path, kind: str, n: int, threads: int) -> None:
    """A dbt project of ``n`` trivial nodes of ``kind`` in ``root``."""
    if root.exists():
        shutil.rmtree(root)
    models = root / "models"
    models.mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: node_cost\nversion: '1.0'\nprofile: node_cost\n"
        "models:\n  node_cost:\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        PROFILE.format(path=root / "node_cost.duckdb", threads=threads)
    )
    if kind == "sql_table":
        for i in range(n):
            (models / f"m{i:04d}.sql").write_text("select 1 as x\n")
    elif kind == "python_table":
        for i in range(n):
            (models / f"p{i:04d}.py").write_text(
                "import pandas as pd\n\n\ndef model(dbt, session):\n"
                "    return pd.DataFrame({'x': [1]})\n"
            )
    elif kind == "test":
        (models / "one_row.sql").write_text("select 1 as x\n")
        tests = "\n".join(
            f"          - not_null:\n              name: t{i:04d}" for i in range(n)
        )
        (models / "one_row.yml").write_text(
            "version: 2\nmodels:\n  - name: one_row\n    columns:\n"
            f"      - name: x\n        data_tests:\n{tests}\n"
        )
    else:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")


def nodes_built(kind: str, n: int) -> int:
    """The nodes a build of that project runs (the test project's table)."""
    return n + 1 if kind == "test" else n


def time_build(root: Path, label: str) -> float:
    env = dbt_environment(
        project_dir=root,
        profiles_dir=root,
        target_path=root / "target",
        log_path=root / "logs",
        extra={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"},
    )
    args = ["--project-dir", str(root)]
    parsed = measure([DBT, "parse", *args], root / "parse.log", label, env, root)
    if parsed.returncode != 0:
        raise SystemExit(f"{label}: dbt parse failed, see {parsed.log}")
    built = measure([DBT, "build", *args], root / "build.log", label, env, root)
    if built.returncode != 0:
        raise SystemExit(f"{label}: dbt build failed, see {built.log}")
    return built.wall_seconds


def project_nodes(manifest: Path) -> dict[str, int]:
    """Nodes of each kind in a build of the project (seeds count as SQL
    tables, snapshots and unit tests are left out: the build skips them)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    counts = dict.fromkeys(KINDS, 0)
    for node in nodes:
        kind = node["resource_type"]
        if kind == "test":
            counts["test"] += 1
        elif kind == "model" and node["language"] == "python":
            counts["python_table"] += 1
        elif kind in ("model", "seed"):
            counts["sql_table"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,250")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--manifest", type=Path, default=REPO / "target" / "manifest.json"
    )
    parser.add_argument("--json", type=Path, default=BENCH / "node_cost.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if len(sizes) < 2:
        parser.error("--sizes needs two sizes or more (the cost is a slope)")
    work = BENCH / ".work" / "node-cost"
    rates = {}
    for kind in KINDS:
        walls = {}
        for n in sizes:
            log(f"{kind}: dbt build of {n} nodes")
            root = work / f"{kind}-{n}"
            write_project(root, kind, n, args.threads)
            walls[n] = time_build(root, f"{kind} x {n}")
        low, high = sizes[0], sizes[-1]
        per_node = (walls[high] - walls[low]) / (
            nodes_built(kind, high) - nodes_built(kind, low)
        )
        start = walls[low] - per_node * nodes_built(kind, low)
        rates[kind] = {
            "build_wall_seconds": walls,
            "seconds_per_node": round(per_node, 4),
            "start_seconds": round(start, 2),
        }
        log(f"{kind}: {per_node:.3f} s per node, start {start:.1f} s")
    machine = run.machine_facts()
    result = {
        "machine": machine,
        "project_version": run.project_version(machine),
        "threads": args.threads,
        "kinds": rates,
    }
    if args.manifest.exists():
        counts = project_nodes(args.manifest)
        cost = {k: round(counts[k] * rates[k]["seconds_per_node"], 1) for k in KINDS}
        result["project_nodes"] = counts
        result["project_fixed_seconds"] = cost
        log(
            "the project: "
            + ", ".join(f"{counts[k]} {k} ({cost[k]} s)" for k in KINDS)
            + f"; {sum(cost.values()):.1f} s in all, plus dbt's start"
        )
    else:
        log(f"no {args.manifest}: build the project first (make demo)")
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
