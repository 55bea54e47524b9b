"""A benchmark anyone can rerun: data sizes x time, memory and rivals.

    python bench/run.py [--sizes 10000,100000,1000000] [--out docs/benchmarks.md]

For each size (customers, about 10 orders each) it

1. generates the data with ``python -m crm_analytics.generate`` into
   ``bench/.work/data-<N>`` (kept and reused while the generator is unchanged);
2. runs the whole ``dbt build`` into a scratch DuckDB file and measures its
   wall time and peak memory (RSS of the process tree, polled from /proc),
   and the time of every stage (load, staging, intermediate, marts, tests,
   each Python model) from dbt's ``run_results.json``;
3. the pandas way (``bench/pandas_way.py``) against the SQL marts that
   compute the same things (RFM, value, loyalty), each in its own measured
   process;
4. the floor: one hand-written DuckDB query for the RFM mart on the built
   tables, against ``dim_customer_rfm`` run on its own;
5. reference libraries in their own virtualenv (``bench/.venv-ref`` from
   ``bench/requirements.txt``): lifetimes' BG/NBD against
   ``crm_analytics.ml.clv.fit_bgnbd``, and mlxtend's fpgrowth +
   association_rules (and apriori, under a memory cap) against
   ``fct_product_associations``;

then writes a markdown report (``--out``) and the raw figures as JSON
(``--json``). Progress goes to stdout; every command's output to
``bench/.work/size-<N>/*.log``.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from crm_analytics.settings import dbt_environment, environment_value

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
# The dbt project the benchmark runs: a frozen copy of REPO's (see
# snapshot_project), so edits made to the tree during a long run cannot mix
# two versions of the models into one set of figures.
PROJECT = REPO
SNAPSHOT_PARTS = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "profiles",
    "models",
    "macros",
    "seeds",
    "tests",
    "analyses",
    "src",
)
PYTHON = Path(sys.executable)
DBT = PYTHON.with_name("dbt")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
GB = 1024**3

# The marts that the pandas way reproduces.
PANDAS_MARTS = ("dim_customer_rfm", "dim_customer_value", "dim_customer_loyalty")

# Same settings as profiles/profiles.yml, for the hand-written floor query.
DUCKDB_SETTINGS = {"threads": 2, "memory_limit": "12GB"}

TARGETS = {
    "build": "full dbt build under 5 min and 8 GB peak (stated for 1M customers)",
    "pandas": "SQL marts >= 3x faster and >= 4x leaner than pandas",
    "floor": "dim_customer_rfm within 1.5x of the hand-written floor",
    "bgnbd": "BG/NBD fit >= 4x faster than lifetimes, same parameters",
    "associations": "association rules >= 30x faster than mlxtend fpgrowth, "
    "equal metrics",
}
PARAMETER_RTOL = 0.01  # "same parameters": every BG/NBD parameter within 1%
METRIC_ATOL = 1e-8  # "equal metrics": support, confidence, lift within 1e-8


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- measuring a process tree -----------------------------------------------


def _descendants(root: int) -> list[int]:
    children = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_rss(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in bytes."""
    total = 0
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def cpu_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


@dataclass
class Measured:
    """What one measured command did."""

    command: list[str]
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    max_process_rss_bytes: int
    cpu_seconds: float
    other_cpu_seconds: float
    timed_out: bool
    log: str
    started_at: float
    samples: list[tuple[float, int]] = field(default_factory=list, repr=False)
    #: seconds after the start at which a line starting with each watched
    #: text first appeared in the command's output (see ``measure``)
    marks: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        data = asdict(self)
        data.pop("samples")
        data["peak_rss_gb"] = round(self.peak_rss_bytes / GB, 3)
        data["max_process_rss_gb"] = round(self.max_process_rss_bytes / GB, 3)
        return data


def measure(
    command: list[str],
    log_path: Path,
    label: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    memory_cap_bytes: int | None = None,
    heartbeat: float = 30.0,
    interval: float = 0.2,
    watch: tuple[str, ...] = (),
) -> Measured:
    """Run ``command`` to completion, polling the RSS of its process tree.

    Peak RSS is the largest sum over the tree seen by the poller;
    ``max_process_rss`` is the kernel's ru_maxrss of the largest single
    process (exact, not sampled). ``other_cpu_seconds`` is the CPU time the
    rest of the machine used meanwhile (a shared-machine indicator).
    ``marks`` holds, for each text of ``watch``, when a line starting with
    it (after dbt's time stamp) first appeared in the output, in seconds
    after the start, to within one poll (``interval``).
    """
    command = [str(part) for part in command]
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def limit() -> None:
        if memory_cap_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap_bytes, memory_cap_bytes))

    busy_before = cpu_busy_seconds()
    started = time.time()
    clock = time.perf_counter()
    with open(log_path, "w") as handle:
        process = subprocess.Popen(
            command,
            cwd=cwd or PROJECT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=limit if memory_cap_bytes else None,
        )
    samples: list[tuple[float, int]] = []
    timed_out = False
    next_beat = clock + heartbeat
    watcher = LineWatch(log_path, watch)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            break
        now = time.perf_counter()
        samples.append((time.time(), tree_rss(process.pid)))
        watcher.poll(now - clock)
        if timeout and now - clock > timeout and not timed_out:
            timed_out = True
            log(f"  {label}: timed out after {timeout:.0f} s, stopping it")
            os.killpg(process.pid, signal.SIGTERM)
        if now >= next_beat:
            next_beat = now + heartbeat
            log(
                f"  {label}: {now - clock:6.0f} s, "
                f"{samples[-1][1] / GB:5.2f} GB | {_last_line(log_path)}"
            )
        time.sleep(interval)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - clock
    watcher.poll(wall)
    own_cpu = usage.ru_utime + usage.ru_stime
    return Measured(
        command=command,
        returncode=process.returncode,
        wall_seconds=round(wall, 3),
        peak_rss_bytes=max((rss for _, rss in samples), default=0),
        max_process_rss_bytes=usage.ru_maxrss * 1024,
        cpu_seconds=round(own_cpu, 2),
        other_cpu_seconds=round(max(cpu_busy_seconds() - busy_before - own_cpu, 0), 2),
        timed_out=timed_out,
        log=str(
            log_path.relative_to(REPO) if log_path.is_relative_to(REPO) else log_path
        ),
        started_at=started,
        samples=samples,
        marks={text: round(at, 2) for text, at in watcher.marks.items()},
    )


ANSI = re.compile(r"\x1b\[[0-9;]*m")
DBT_STAMP = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?\s+")


def output_line(line: str) -> str:
    """A line of dbt's output without colour codes and its time stamp."""
    return DBT_STAMP.sub("", ANSI.sub("", line).strip())


class LineWatch:
    """Reads what a command has written to its log so far, line by line,
    and notes when a line starting with each watched text first appears."""

    def __init__(self, path: Path, texts: tuple[str, ...]) -> None:
        self.path, self.texts = path, texts
        self.marks: dict[str, float] = {}
        self._offset = 0
        self._partial = b""

    def poll(self, seconds: float) -> None:
        if not self.texts or len(self.marks) == len(self.texts):
            return
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for raw in lines:
            line = output_line(raw.decode(errors="replace"))
            for text in self.texts:
                if text not in self.marks and line.startswith(text):
                    self.marks[text] = seconds


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(path.stat().st_size - 4096, 0))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1][:110] if lines else ""


# --- machine and project facts ----------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict:
    with open("/proc/meminfo") as handle:
        meminfo = dict(line.split(":", 1) for line in handle)
    cpu_model = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", ":!bench", ":!docs/benchmarks.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "ram_gb": round(int(meminfo["MemTotal"].split()[0]) / 1024**2, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {
            name: _version(name)
            for name in (
                "dbt-core",
                "dbt-duckdb",
                "duckdb",
                "pandas",
                "numpy",
                "scipy",
                "pyarrow",
                "scikit-learn",
            )
        },
        "git_commit": git.stdout.strip(),
        "git_uncommitted_files": len(dirty.stdout.splitlines()),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def snapshot_project(dest: Path) -> str:
    """Copy the dbt project and the package (SNAPSHOT_PARTS) to ``dest``;
    returns a digest of what was copied."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for part in SNAPSHOT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, dest / part)
    digest = hashlib.sha256()
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(dest)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


COMPARISONS = (
    "sql_marts",
    "pandas",
    "pandas_vs_sql",
    "floor",
    "bgnbd",
    "associations",
    "apriori",
)
"""The sections of a size measured after its full build (--build-only skips
them)."""


def project_version(machine: dict) -> str:
    """The commit a run measured, with its count of uncommitted files."""
    dirty = machine.get("git_uncommitted_files")
    return machine["git_commit"] + (f" + {dirty} uncommitted files" if dirty else "")


class BuildFailed(RuntimeError):
    """dbt build did not pass: the figures of this size would mean nothing."""


# --- the reference virtualenv -------------------------------------------------


def reference_python(work: Path) -> Path:
    """bench/.venv-ref with bench/requirements.txt, made once per change."""
    venv = BENCH / ".venv-ref"
    requirements = BENCH / "requirements.txt"
    stamp = venv / ".installed"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    python = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == digest and python.exists():
        return python
    log(f"creating {venv.relative_to(REPO)} from {requirements.relative_to(REPO)}")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
        check=True,
    )
    stamp.write_text(digest)
    return python


def reference_versions(python: Path) -> dict:
    code = (
        "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) "
        "for p in ['lifetimes', 'mlxtend', 'pandas', 'numpy', 'scipy', "
        "'autograd']}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {}


# --- dbt ------------------------------------------------------------------------


def dbt_env(size_dir: Path, raw_dir: Path, target: str, hash_key: str) -> dict:
    return dbt_environment(
        raw_dir=raw_dir,
        build_path=size_dir / "build.duckdb",
        temp_dir=size_dir / "duckdb_tmp",
        pii_hash_key=hash_key,
        project_dir=PROJECT,
        profiles_dir=PROJECT / "profiles",
        # Own target and log folders: other dbt runs in this tree are unaffected.
        target_path=size_dir / target,
        log_path=size_dir / "logs",
        extra={
            # Python models import crm_analytics from the snapshot, not the tree.
            "PYTHONPATH": str(PROJECT / "src"),
            "DBT_USE_COLORS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        },
    )


def build_command() -> list:
    """``dbt build`` with the arguments ``python -m crm_analytics.publish``
    (``make build``) gives it: the build a user runs (without dbt's unit
    tests, which check the SQL on fixed rows, not the data)."""
    from crm_analytics.publish import build_arguments

    return [DBT, "build", *build_arguments([])]


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def node_spans(result: dict) -> tuple[float, float] | None:
    stamps = [
        (_epoch(t["started_at"]), _epoch(t["completed_at"]))
        for t in result.get("timing", [])
        if t.get("started_at") and t.get("completed_at")
    ]
    if not stamps:
        return None
    return min(s for s, _ in stamps), max(e for _, e in stamps)


LOAD_STAGE = "load raw files (plugin, before any node)"
HOOK_STAGE = "on-run-start hook (settings check)"
LOAD_DONE = "raw files loaded in "
"""The line the project's dbt-duckdb plugin prints once the raw files are
loaded (crm_analytics.duckdb_plugin), before dbt runs any node."""
LOAD_TABLE = re.compile(r"raw\.(?P<table>\w+): (?P<what>.*)$")
LOAD_ROWS = re.compile(
    r"(?P<rows>\d+) rows(?:, (?P<new>\d+) new file\(s\))? \((?P<origin>.*)\)$"
)


def raw_load(text: str) -> dict | None:
    """What the raw load did, from the lines the project's dbt-duckdb
    plugin prints before any node (crm_analytics.ingest's log): its own
    ``seconds`` (the line ``raw files loaded in 12.3 s``) and, per table,
    its rows, the files read (``read``: the file, ``N files (a ... b)``, or
    nothing) and why it was reloaded in full, if it was. None when the
    output has no such line (nothing was loaded)."""
    seconds = None
    tables: dict[str, dict] = {}
    for raw_line in text.splitlines():
        line = output_line(raw_line)
        if line.startswith(LOAD_DONE):
            try:
                seconds = float(line[len(LOAD_DONE) :].split()[0])
            except (IndexError, ValueError):
                continue
            continue
        match = LOAD_TABLE.match(line)
        if not match:
            continue
        table, what = match["table"], match["what"]
        entry = tables.setdefault(table, {"rows": None, "read": None})
        if what.startswith("reloading in full: "):
            entry["reloaded_because"] = what[len("reloading in full: ") :]
        elif what == "no file, empty table":
            entry["rows"] = 0
        elif what.endswith(" rows, no new file"):
            entry["rows"] = int(what.split()[0])
        elif rows := LOAD_ROWS.match(what):
            entry["rows"] = int(rows["rows"])
            if rows["origin"] != "no new file":
                entry["read"] = rows["origin"]
    if seconds is None:
        return None
    return {
        "seconds": seconds,
        "tables": tables,
        "files_read": {t: e["read"] for t, e in tables.items() if e["read"]},
        "reloaded": {
            t: e["reloaded_because"]
            for t, e in tables.items()
            if "reloaded_because" in e
        },
    }


def raw_load_of(measured: Measured) -> dict | None:
    """raw_load of a measured dbt command's output, with the peak RSS of
    the process tree until the load's line appeared."""
    load = raw_load(Path(REPO / measured.log).read_text(errors="replace"))
    if load is None:
        return None
    done = measured.marks.get(LOAD_DONE)
    if done is not None:
        until = measured.started_at + done
        window = [rss for t, rss in measured.samples if t <= until]
        load["done_after_seconds"] = done
        load["peak_rss_gb"] = round(max(window, default=0) / GB, 2)
    return load


def stage_of(unique_id: str, node: dict) -> str:
    kind = unique_id.split(".", 1)[0]
    if kind == "operation":
        return HOOK_STAGE
    if kind == "unit_test":
        return "unit tests"
    if kind == "test":
        return "data tests"
    if kind == "seed":
        return "seeds"
    if node.get("language") == "python":
        return f"python: {node['name']}"
    path = node.get("original_file_path", "")
    parts = path.split("/")
    if len(parts) > 1 and parts[0] == "models":
        return parts[1]
    return kind


def stage_table(
    run_results: dict, manifest: dict, samples, load: dict | None = None
) -> list[dict]:
    """Seconds per stage (sum of node execution times; with 2 threads nodes
    overlap, so stages can add up to more than the wall time) and the peak
    RSS seen while any node of the stage ran. The raw load is no node: its
    row comes from ``load`` (raw_load_of: the plugin's own time, and the
    peak RSS until it was done)."""
    nodes = manifest["nodes"]
    times = [t for t, _ in samples]
    stages: dict[str, dict] = {}
    for result in run_results["results"]:
        uid = result["unique_id"]
        if uid.startswith("exposure."):
            continue  # no-ops
        name = stage_of(uid, nodes.get(uid, {}))
        stage = stages.setdefault(
            name, {"stage": name, "nodes": 0, "seconds": 0.0, "peak_rss_bytes": 0}
        )
        stage["nodes"] += 1
        stage["seconds"] += result["execution_time"] or 0
        span = node_spans(result)
        if span and times:
            lo = bisect.bisect_left(times, span[0])
            hi = bisect.bisect_right(times, span[1])
            window = samples[max(lo - 1, 0) : hi + 1]
            if window:
                stage["peak_rss_bytes"] = max(
                    stage["peak_rss_bytes"], max(rss for _, rss in window)
                )
    if load is not None:
        stages[LOAD_STAGE] = {
            "stage": LOAD_STAGE,
            "nodes": 0,
            "tables": len(load["tables"]),
            "seconds": load["seconds"],
            "peak_rss_bytes": round(load.get("peak_rss_gb", 0) * GB),
        }
    order = [LOAD_STAGE, HOOK_STAGE, "seeds", "staging", "intermediate"]
    order += ["marts", "data tests", "unit tests"]

    def key(stage: dict) -> tuple:
        name = stage["stage"]
        return (order.index(name) if name in order else len(order), name)

    rows = sorted(stages.values(), key=key)
    for row in rows:
        row["seconds"] = round(row["seconds"], 2)
        row["peak_rss_gb"] = round(row.pop("peak_rss_bytes") / GB, 2)
    return rows


def timeline(started: float, samples, points: int = 300) -> list[list[float]]:
    """[seconds since start, GB] of the RSS samples, thinned to ``points``."""
    step = max(len(samples) // points, 1)
    return [[round(t - started, 1), round(rss / GB, 3)] for t, rss in samples[::step]]


def slowest_nodes(run_results: dict, count: int = 10) -> list[dict]:
    ranked = sorted(run_results["results"], key=lambda r: -(r["execution_time"] or 0))
    return [
        {"node": r["unique_id"], "seconds": round(r["execution_time"], 2)}
        for r in ranked[:count]
    ]


def upstream_sql_models(manifest: dict, roots: list[str]) -> tuple[list, list]:
    """(SQL models, Python models) that ``roots`` depend on, roots included."""
    nodes = manifest["nodes"]
    seen, todo = set(), [f"model.crm_analytics.{name}" for name in roots]
    while todo:
        uid = todo.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        todo.extend(nodes[uid]["depends_on"]["nodes"])
    sql = sorted(nodes[u]["name"] for u in seen if nodes[u]["language"] == "sql")
    python = sorted(nodes[u]["name"] for u in seen if nodes[u]["language"] != "sql")
    return sql, python


def load_results(target: Path) -> tuple[dict, dict]:
    run_results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    return run_results, manifest


def node_times(run_results: dict) -> dict[str, float]:
    return {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in run_results["results"]
        if r["unique_id"].startswith("model.")
    }


# --- the floor ------------------------------------------------------------------

FLOOR_SQL = """
create or replace table bench_floor.dim_customer_rfm as
with
as_of as (select as_of_date from intermediate.int_as_of_date),
days as (
    select
        o.customer_id,
        o.order_date,
        count(*) as count_orders,
        sum(o.net_revenue) as revenue
    from marts.fct_orders as o, as_of
    where o.is_completed and o.order_date <= as_of.as_of_date
    group by all
),
summary as (
    select
        d.customer_id,
        count(*) - 1 as frequency,
        max(d.order_date) - min(d.order_date) as recency,
        any_value(as_of.as_of_date) - min(d.order_date) as t,
        coalesce(
            (sum(d.revenue) - arg_min(d.revenue, d.order_date))
            / nullif(count(*) - 1, 0),
            0
        ) as monetary_value,
        sum(d.count_orders) as count_orders,
        sum(d.revenue) as sum_net_revenue,
        min(d.order_date) as first_purchase_period_start,
        max(d.order_date) as last_purchase_date,
        any_value(as_of.as_of_date) - max(d.order_date)
            as days_since_last_purchase,
        any_value(as_of.as_of_date) as as_of_date
    from days as d, as_of
    group by d.customer_id
),
scored as (
    select
        *,
        least(5, 1 + floor(5 * percent_rank() over (
            order by days_since_last_purchase desc)))::integer as r_score,
        least(5, 1 + floor(5 * percent_rank() over (
            order by frequency)))::integer as f_score,
        least(5, 1 + floor(5 * percent_rank() over (
            order by sum_net_revenue)))::integer as m_score
    from summary
)
select
    s.customer_id,
    m.rfm_segment,
    concat(s.r_score, s.f_score, s.m_score) as rfm_cell,
    'day' as rfm_time_unit,
    s.frequency,
    s.recency::double as recency,
    s.t::double as t,
    s.monetary_value::double as monetary_value,
    s.days_since_last_purchase,
    s.count_orders::bigint as count_orders,
    s.sum_net_revenue::decimal(18, 2) as sum_net_revenue,
    s.r_score,
    s.f_score,
    s.m_score,
    s.first_purchase_period_start,
    s.last_purchase_date,
    s.as_of_date
from scored as s
left join reference.rfm_segment_map as m
    on s.r_score = m.r_score and s.f_score = m.f_score
"""

FLOOR_CHECK = """
select
    count(*) filter (where f.customer_id is null or d.customer_id is null),
    count(*) filter (
        where f.r_score <> d.r_score or f.f_score <> d.f_score
        or f.m_score <> d.m_score or f.frequency <> d.frequency
        or f.recency <> d.recency or f.t <> d.t
        or abs(f.monetary_value - d.monetary_value) > 1e-6
        or f.sum_net_revenue <> d.sum_net_revenue
        or f.rfm_segment is distinct from d.rfm_segment
    ),
    count(*)
from bench_floor.dim_customer_rfm as f
full join marts.dim_customer_rfm as d on f.customer_id = d.customer_id
"""


def run_floor(database: Path, repeats: int = 3) -> dict:
    """Time the hand-written RFM query (best of ``repeats``) on the built
    tables, with the profile's DuckDB settings, and check it equals the mart."""
    with duckdb.connect(str(database), config=DUCKDB_SETTINGS) as con:
        con.execute("create schema if not exists bench_floor")
        seconds = []
        for _ in range(repeats):
            clock = time.perf_counter()
            con.execute(FLOOR_SQL)
            seconds.append(time.perf_counter() - clock)
        unmatched, different, total = con.execute(FLOOR_CHECK).fetchone()
        con.execute("drop schema bench_floor cascade")
    return {
        "seconds_best": round(min(seconds), 3),
        "seconds_all": [round(s, 3) for s in seconds],
        "rows": total,
        "rows_unmatched": unmatched,
        "rows_different": different,
        "equal_to_mart": unmatched == 0 and different == 0,
    }


# --- exports for the reference libraries ------------------------------------------


def export_inputs(database: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database), read_only=True) as con:
        as_of = con.execute(
            "select as_of_date from intermediate.int_as_of_date"
        ).fetchone()[0]
        con.execute(
            f"""copy (
                select customer_id, order_date, net_revenue
                from marts.fct_orders
                where is_completed and order_date <= date '{as_of}'
                order by customer_id, order_date
            ) to '{out / "transactions.parquet"}' (format parquet)"""
        )
        con.execute(
            f"""copy (
                select distinct 'product' as association_level, order_id,
                    product_id as item
                from marts.fct_order_items where is_completed
                union all
                select distinct 'category', i.order_id, p.category
                from marts.fct_order_items as i
                inner join marts.dim_products as p on i.product_id = p.product_id
                where i.is_completed and p.category is not null
                order by 1, 2, 3
            ) to '{out / "baskets.parquet"}' (format parquet)"""
        )
        con.execute(
            f"""copy (
                select customer_id, frequency, recency, t, monetary_value
                from marts.dim_customer_rfm order by customer_id
            ) to '{out / "rfm.parquet"}' (format parquet)"""
        )
        con.execute(
            f"""copy (
                select association_level, antecedents, consequents,
                    antecedent_support, consequent_support, support,
                    confidence, lift
                from marts.fct_product_associations
            ) to '{out / "rules.parquet"}' (format parquet)"""
        )
        counts = {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "marts.fct_orders",
                "marts.fct_order_items",
                "marts.dim_customers",
                "marts.dim_customer_rfm",
                "marts.fct_product_associations",
            )
        }
        raw = {
            name: con.execute(f'select count(*) from raw."{name}"').fetchone()[0]
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw' "
                "order by 1"
            ).fetchall()
        }
    return {"as_of_date": str(as_of), "table_rows": counts, "raw_rows": raw}


def our_bgnbd(rfm_path: Path) -> dict:
    import pandas as pd

    from crm_analytics.ml.clv import fit_bgnbd

    rfm = pd.read_parquet(rfm_path)
    seconds = []
    for _ in range(3):
        clock = time.perf_counter()
        fit = fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["t"], unit_days=1.0)
        seconds.append(time.perf_counter() - clock)
        if seconds[-1] > 20:
            break
    return {
        "fit_seconds_best": round(min(seconds), 3),
        "fit_seconds_all": [round(s, 3) for s in seconds],
        "params": {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b},
        "customers": len(rfm),
        "sum_frequency": float(rfm["frequency"].sum()),
        "sum_recency": float(rfm["recency"].sum()),
        "sum_t": float(rfm["t"].sum()),
        "sum_monetary_value": float(rfm["monetary_value"].sum()),
    }


def compare_rules(ours_path: Path, theirs_path: Path) -> dict:
    import pandas as pd

    keys = ["association_level", "antecedents", "consequents"]
    ours = pd.read_parquet(ours_path)
    theirs = pd.read_parquet(theirs_path)
    merged = ours.merge(theirs, on=keys, how="outer", suffixes=("_ours", "_ref"))
    both = merged.dropna(subset=["support_ours", "support_ref"])
    diffs = {
        metric: float(
            (both[f"{metric}_ours"] - both[f"{metric}_ref"]).abs().max()
            if len(both)
            else 0.0
        )
        for metric in ("support", "confidence", "lift")
    }
    only_ours = int(merged["support_ref"].isna().sum())
    only_ref = int(merged["support_ours"].isna().sum())
    return {
        "rules_ours": len(ours),
        "rules_ref": len(theirs),
        "rules_only_ours": only_ours,
        "rules_only_ref": only_ref,
        "max_abs_diff": diffs,
        "equal": only_ours == 0
        and only_ref == 0
        and all(v <= METRIC_ATOL for v in diffs.values()),
    }


# --- one size ---------------------------------------------------------------------


def generator_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((PROJECT / "src" / "crm_analytics" / "generate").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def generate(customers: int, seed: int, work: Path, force: bool) -> dict:
    data = work / f"data-{customers}"
    stamp = data / ".generated.json"
    wanted = {"customers": customers, "seed": seed, "generator": generator_digest()}
    if stamp.exists() and not force:
        done = json.loads(stamp.read_text())
        if all(done.get(k) == v for k, v in wanted.items()):
            log(f"data for {customers:,} customers: reusing {data.relative_to(REPO)}")
            return {**done, "reused": True}
    shutil.rmtree(data, ignore_errors=True)
    log(f"generating {customers:,} customers -> {data.relative_to(REPO)}")
    measured = measure(
        [PYTHON, "-m", "crm_analytics.generate", "--customers", customers,
         "--seed", seed, "--out", data, "--quiet"],
        work / f"generate-{customers}.log",
        "generate",
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
    )  # fmt: skip
    if measured.returncode != 0:
        raise RuntimeError(f"generator failed, see {measured.log}")
    done = {**wanted, "measured": measured.summary()}
    stamp.write_text(json.dumps(done, indent=2))
    return {**done, "reused": False}


def bench_size(customers: int, args, hash_key: str, ref_python: Path | None) -> dict:
    work = args.work
    size_dir = work / f"size-{customers}"
    result: dict = {
        "customers": customers,
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
    }
    result["generate"] = generate(customers, args.seed, work, args.regenerate)
    raw_dir = work / f"data-{customers}" / "raw"

    # 1. the whole build, from an empty file
    shutil.rmtree(size_dir, ignore_errors=True)
    size_dir.mkdir(parents=True)
    database = size_dir / "build.duckdb"
    log(f"dbt build, {customers:,} customers")
    build = measure(
        build_command(),
        size_dir / "dbt_build.log",
        "dbt build",
        env=dbt_env(size_dir, raw_dir, "target-build", hash_key),
        watch=(LOAD_DONE,),
    )
    run_results, manifest = load_results(size_dir / "target-build")
    statuses: dict[str, int] = defaultdict(int)
    for r in run_results["results"]:
        statuses[r["status"]] += 1
    result["build"] = {
        **build.summary(),
        "dbt_elapsed_seconds": round(run_results["elapsed_time"], 2),
        "statuses": dict(statuses),
        "not_passed": [
            r["unique_id"]
            for r in run_results["results"]
            if r["status"] not in ("success", "pass", "no-op")
        ],
        "rss_timeline": timeline(build.started_at, build.samples),
    }
    result["load"] = raw_load_of(build)
    result["stages"] = stage_table(run_results, manifest, build.samples, result["load"])
    result["slowest_nodes"] = slowest_nodes(run_results)
    log(
        f"  build: {build.wall_seconds:.0f} s, peak {build.peak_rss_bytes / GB:.2f} GB"
        f", exit {build.returncode}, {dict(statuses)}"
    )
    if build.returncode != 0:
        failed = ", ".join(result["build"]["not_passed"][:5])
        raise BuildFailed(f"dbt build failed ({failed}); see {build.log}")
    full_times = node_times(run_results)

    result["inputs"] = export_inputs(database, size_dir / "export")
    raw_rows = sum(result["inputs"]["raw_rows"].values())
    result["build"]["raw_rows"] = raw_rows
    result["build"]["rows_per_second"] = round(raw_rows / build.wall_seconds)
    if args.build_only:
        return result

    # 2. SQL marts against the pandas way
    sql_models, python_models = upstream_sql_models(manifest, list(PANDAS_MARTS))
    log(f"SQL marts: dbt run of {len(sql_models)} SQL models, up to {PANDAS_MARTS}")
    sql = measure(
        [DBT, "run", "--full-refresh", "--select", *sql_models],
        size_dir / "dbt_sql_marts.log",
        "SQL marts",
        env=dbt_env(size_dir, raw_dir, "target-sql", hash_key),
        watch=(LOAD_DONE,),
    )
    sql_results, _ = load_results(size_dir / "target-sql")
    result["sql_marts"] = {
        **sql.summary(),
        "models": sql_models,
        "python_models_upstream_not_run": python_models,
        "dbt_elapsed_seconds": round(sql_results["elapsed_time"], 2),
        "load": raw_load_of(sql),
        "sum_node_seconds": round(
            sum(r["execution_time"] for r in sql_results["results"]), 2
        ),
        "sum_node_seconds_in_full_build": round(
            sum(full_times.get(name, 0) for name in sql_models), 2
        ),
        "python_upstream_seconds_in_full_build": round(
            sum(full_times.get(name, 0) for name in python_models), 2
        ),
    }
    log("pandas way")
    pandas_run = measure(
        [
            PYTHON,
            BENCH / "pandas_way.py",
            "--raw",
            raw_dir,
            "--out",
            size_dir / "pandas",
            "--segment-map",
            PROJECT / "seeds" / "rfm_segment_map.csv",
        ],
        size_dir / "pandas_way.log",
        "pandas",
    )
    pandas_out = json.loads(
        Path(REPO / pandas_run.log).read_text().strip().splitlines()[-1]
    )
    result["pandas"] = {**pandas_run.summary(), **pandas_out}
    result["pandas_vs_sql"] = {
        "time_ratio": round(pandas_out["seconds"] / sql_results["elapsed_time"], 2),
        "wall_ratio": round(pandas_run.wall_seconds / sql.wall_seconds, 2),
        "memory_ratio": round(pandas_run.peak_rss_bytes / sql.peak_rss_bytes, 2),
    }
    log(f"  {result['pandas_vs_sql']}")

    # 3. the floor, and our RFM / association models on their own
    log("dim_customer_rfm and fct_product_associations alone (1 dbt thread)")
    alone = measure(
        [DBT, "run", "--threads", "1", "--select", "dim_customer_rfm",
         "fct_product_associations"],
        size_dir / "dbt_alone.log",
        "models alone",
        env=dbt_env(size_dir, raw_dir, "target-alone", hash_key),
    )  # fmt: skip
    alone_times = node_times(load_results(size_dir / "target-alone")[0])
    log("floor: hand-written RFM query")
    floor = run_floor(database)
    rfm_seconds = alone_times["dim_customer_rfm"]
    result["floor"] = {
        **floor,
        "model_seconds": round(rfm_seconds, 3),
        "model_seconds_in_full_build": round(full_times["dim_customer_rfm"], 3),
        "ratio": round(rfm_seconds / floor["seconds_best"], 2),
        "alone_run": alone.summary(),
    }
    log(f"  RFM model {rfm_seconds:.2f} s, floor {floor['seconds_best']:.2f} s")

    # 4. reference libraries
    if ref_python:
        export = size_dir / "export"
        log("BG/NBD: ours")
        ours = our_bgnbd(export / "rfm.parquet")
        log("BG/NBD: lifetimes")
        lt = measure(
            [ref_python, BENCH / "ref_lifetimes.py", "--transactions",
             export / "transactions.parquet", "--as-of",
             result["inputs"]["as_of_date"], "--out", size_dir / "lifetimes.json"],
            size_dir / "lifetimes.log",
            "lifetimes",
            timeout=args.ref_timeout,
        )  # fmt: skip
        bgnbd: dict = {"ours": ours, "lifetimes_run": lt.summary()}
        if lt.returncode == 0:
            theirs = json.loads((size_dir / "lifetimes.json").read_text())
            bgnbd["lifetimes"] = theirs
            rel = {
                k: abs(ours["params"][k] - v) / abs(v)
                for k, v in theirs["params"].items()
            }
            bgnbd["max_rel_param_diff"] = max(rel.values())
            bgnbd["rel_param_diff"] = rel
            bgnbd["same_summary"] = (
                all(
                    abs(ours[k] - theirs[k]) <= 1e-6 * max(abs(theirs[k]), 1)
                    for k in ("sum_frequency", "sum_recency", "sum_t")
                )
                and ours["customers"] == theirs["customers"]
            )
            bgnbd["fit_ratio"] = round(
                theirs["fit_seconds"] / ours["fit_seconds_best"], 2
            )
            ours_total = rfm_seconds + ours["fit_seconds_best"]
            bgnbd["summary_plus_fit_ratio"] = round(
                (theirs["summary_seconds"] + theirs["fit_seconds"]) / ours_total,
                2,
            )
            bgnbd["ours_summary_plus_fit_seconds"] = round(ours_total, 3)
            log(f"  fit: ours {ours['fit_seconds_best']:.2f} s, lifetimes "
                f"{theirs['fit_seconds']:.2f} s, max rel diff "
                f"{bgnbd['max_rel_param_diff']:.2e}")  # fmt: skip
        bgnbd["int_clv_parameters_seconds_in_full_build"] = round(
            full_times.get("int_clv_parameters", 0), 2
        )
        result["bgnbd"] = bgnbd

        log("associations: mlxtend fpgrowth")
        fp = measure(
            [ref_python, BENCH / "ref_mlxtend.py", "--baskets",
             export / "baskets.parquet", "--min-support", args.min_support,
             "--min-confidence", args.min_confidence, "--algo", "fpgrowth",
             "--out", size_dir / "mlxtend.json", "--rules",
             size_dir / "mlxtend_rules.parquet"],
            size_dir / "mlxtend.log",
            "mlxtend",
            timeout=args.ref_timeout,
        )  # fmt: skip
        ours_seconds = alone_times["fct_product_associations"]
        assoc: dict = {
            "ours_seconds": round(ours_seconds, 3),
            "ours_seconds_in_full_build": round(
                full_times["fct_product_associations"], 3
            ),
            "mlxtend_run": fp.summary(),
        }
        if fp.returncode == 0:
            theirs = json.loads((size_dir / "mlxtend.json").read_text())
            assoc["mlxtend"] = theirs
            mlx_seconds = theirs["mine_seconds"] + theirs["rules_seconds"]
            assoc["ratio"] = round(mlx_seconds / ours_seconds, 2)
            assoc["ratio_with_encoding"] = round(
                (mlx_seconds + theirs["encode_seconds"]) / ours_seconds, 2
            )
            assoc["comparison"] = compare_rules(
                export / "rules.parquet", size_dir / "mlxtend_rules.parquet"
            )
            log(f"  ours {ours_seconds:.2f} s, mlxtend {mlx_seconds:.2f} s, "
                f"{assoc['comparison']}")  # fmt: skip
        result["associations"] = assoc

        if not args.skip_apriori:
            result["apriori"] = run_apriori(size_dir, args, ref_python)

    result["targets"] = evaluate_targets(result)
    return result


def run_apriori(size_dir: Path, args, ref_python: Path) -> dict:
    """mlxtend's apriori (default low_memory=False) on the product baskets,
    its allocations capped at ``args.apriori_cap_gb`` of address space
    above what the process holds once the one-hot frame is built."""
    log(f"associations: mlxtend apriori (products), capped at "
        f"{args.apriori_cap_gb:g} GB")  # fmt: skip
    ap = measure(
        [ref_python, BENCH / "ref_mlxtend.py", "--baskets",
         size_dir / "export" / "baskets.parquet", "--min-support",
         args.min_support, "--min-confidence", args.min_confidence, "--algo",
         "apriori", "--levels", "product", "--cap-gb", args.apriori_cap_gb,
         "--out", size_dir / "apriori.json"],
        size_dir / "apriori.log",
        "apriori",
        timeout=args.apriori_timeout,
    )  # fmt: skip
    text = Path(REPO / ap.log).read_text()
    outcome = "ok" if ap.returncode == 0 else "failed"
    if "MemoryError" in text or "Unable to allocate" in text:
        outcome = "out of memory"
    if ap.timed_out:
        outcome = "timed out"
    apriori = {"outcome": outcome, "cap_gb": args.apriori_cap_gb, **ap.summary()}
    if outcome == "ok":
        apriori["result"] = json.loads((size_dir / "apriori.json").read_text())
    else:
        errors = [x for x in text.splitlines() if "Error" in x]
        apriori["error"] = errors[-1][:300] if errors else ""
    log(f"  apriori: {outcome} after {ap.wall_seconds:.0f} s")
    return apriori


def evaluate_targets(r: dict) -> dict:
    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "missed")

    build = r["build"]
    targets = {
        "build": verdict(
            build["returncode"] == 0
            and build["wall_seconds"] < 300
            and build["peak_rss_bytes"] < 8 * 10**9
        ),
        "pandas": verdict(
            r["pandas_vs_sql"]["time_ratio"] >= 3
            and r["pandas_vs_sql"]["memory_ratio"] >= 4
        ),
        "floor": verdict(r["floor"]["ratio"] <= 1.5 and r["floor"]["equal_to_mart"]),
    }
    bgnbd = r.get("bgnbd", {})
    targets["bgnbd"] = verdict(
        None
        if "fit_ratio" not in bgnbd
        else bgnbd["fit_ratio"] >= 4 and bgnbd["max_rel_param_diff"] <= PARAMETER_RTOL
    )
    assoc = r.get("associations", {})
    targets["associations"] = verdict(
        None
        if "ratio" not in assoc
        else assoc["ratio"] >= 30 and assoc["comparison"]["equal"]
    )
    if "bgnbd" in r and "fit_ratio" not in bgnbd:
        targets["bgnbd"] = "missed (lifetimes did not finish)"
    if "associations" in r and "ratio" not in assoc:
        targets["associations"] = "missed (mlxtend did not finish)"
    return targets


# --- the report -------------------------------------------------------------------


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.2f} s"


def fmt_gb(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} GB"


def fmt_x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def pick(*path: str):
    """A getter of ``size[path[0]][path[1]]...``."""

    def get(size: dict):
        for key in path:
            size = size[key]
        return size

    return get


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def count(value: int) -> str:
    return f"{value:,}"


def generation(s: dict) -> str:
    measured = s["generate"]["measured"]
    text = fmt_s(measured["wall_seconds"])
    return text + (" (measured apart)" if "measured_by" in measured else "")


def load_cell(s: dict) -> str:
    """The raw load's seconds, and peak RSS until it was done."""
    load = s["load"]
    peak = f" ({fmt_gb(load['peak_rss_gb'])})" if "peak_rss_gb" in load else ""
    return fmt_s(load["seconds"]) + peak


def passed_nodes(s: dict) -> str:
    statuses = s["build"]["statuses"]
    passed = sum(v for k, v in statuses.items() if k in ("success", "pass"))
    return f"{passed} / {len(s['build']['not_passed'])}"


def cpu_split(s: dict) -> str:
    build = s["build"]
    return f"{build['cpu_seconds']:,.0f} s / {build['other_cpu_seconds']:,.0f} s"


def params(source: str):
    def get(s: dict) -> str:
        values = s["bgnbd"][source]["params"]
        return ", ".join(f"{values[p]:.4g}" for p in ("r", "alpha", "a", "b"))

    return get


def mlxtend_seconds(s: dict) -> str:
    mlxtend = s["associations"]["mlxtend"]
    return fmt_s(mlxtend["mine_seconds"] + mlxtend["rules_seconds"])


def rule_counts(s: dict) -> str:
    comparison = s["associations"]["comparison"]
    return f"{comparison['rules_ours']:,} / {comparison['rules_ref']:,}"


def rule_diffs(s: dict) -> str:
    diffs = s["associations"]["comparison"]["max_abs_diff"].values()
    return ", ".join(f"{v:.0e}" for v in diffs)


def apriori_outcome(s: dict) -> str:
    apriori = s["apriori"]
    text = f"{apriori['outcome']} after {fmt_s(apriori['wall_seconds'])}"
    if apriori["outcome"] == "ok":
        text += f" (peak {fmt_gb(apriori['peak_rss_gb'])})"
    return text


def rfm_customers(s: dict) -> str:
    mart = s["inputs"]["table_rows"]["marts.dim_customer_rfm"]
    return f"{s['pandas']['customers_rfm']:,} / {mart:,}"


def floor_equal(s: dict) -> str:
    floor = s["floor"]
    if floor["equal_to_mart"]:
        return "yes"
    return f"no ({floor['rows_different'] + floor['rows_unmatched']} rows differ)"


def render(report: dict) -> str:
    sizes = report["sizes"]
    keys = list(sizes)
    head = "| | " + " | ".join(f"{int(k):,} customers" for k in keys) + " |"
    rule = "|---|" + "---:|" * len(keys)

    def row(label: str, show, get=None) -> str:
        cells = []
        for k in keys:
            try:
                cells.append(show(get(sizes[k])) if get else show(sizes[k]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        return f"| {label} | " + " | ".join(cells) + " |"

    m = report["machine"]
    packages = ", ".join(f"{p} {v}" for p, v in m["packages"].items() if v)
    reference = ", ".join(
        f"{p} {v}" for p, v in report.get("reference_versions", {}).items()
    )
    uncommitted = (
        f" with {m['git_uncommitted_files']} uncommitted files outside bench/"
        if m["git_uncommitted_files"]
        else ""
    )
    if report.get("merged"):
        uncommitted += (
            "; sizes kept from earlier runs (`--merge`) were measured at the "
            "commit in the row 'project measured' of the full build table"
        )
    out = [
        "# Benchmarks",
        "",
        f"Produced by `python bench/run.py {' '.join(report['arguments'])}`"
        " (the harness: [bench/run.py](../bench/run.py)); the raw figures are in "
        f"[{report['json']}](../{report['json']}). Rerun it to replace this page.",
        "",
        "What limits the speed, as profiled, and what has been changed: "
        "[performance.md](performance.md).",
        "",
        f"Run {report['started_at']} to {report['finished_at']} on "
        f"{m['cores']} cores ({m['cpu_model']}), {m['ram_gb']} GB RAM, {m['os']}; "
        f"Python {m['python']}, {packages}. Reference virtualenv "
        f"(`bench/.venv-ref`): {reference or 'not used'}. Project at commit "
        f"{m['git_commit']}{uncommitted}.",
        "",
        f"**Shared machine.** {report['shared_note']} Ratios compare runs made "
        "minutes apart on the same data, so they are the figures to read; "
        "absolute times are orientation only.",
        "",
        "## Targets",
        "",
        "| target | " + " | ".join(f"{int(k):,}" for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for name, text in TARGETS.items():
        verdicts = [sizes[k]["targets"].get(name, "-") for k in keys]
        out.append(f"| {text} | " + " | ".join(verdicts) + " |")
    out += [
        "",
        "## Full build",
        "",
        head,
        rule,
        row("project measured", str, pick("project")),
        row(
            "comparisons below measured at",
            str,
            lambda size: size.get("comparisons_project", size["project"]),
        ),
        row(
            "DuckDB memory_limit (`CRM_DUCKDB_MEMORY_LIMIT`)",
            lambda size: size.get("duckdb_memory_limit", "12GB"),
        ),
        row("raw rows in", count, pick("build", "raw_rows")),
        row(
            "orders (fct_orders)",
            count,
            pick("inputs", "table_rows", "marts.fct_orders"),
        ),
        row("data generation (not part of the build)", generation),
        row("**`dbt build` wall time**", fmt_s, pick("build", "wall_seconds")),
        row("**peak RSS, process tree**", fmt_gb, pick("build", "peak_rss_gb")),
        row(
            "largest single process (ru_maxrss)",
            fmt_gb,
            pick("build", "max_process_rss_gb"),
        ),
        row("raw load (the plugin's `raw files loaded in` line)", load_cell),
        row(
            "raw rows / s (rows in / wall time)",
            count,
            pick("build", "rows_per_second"),
        ),
        row(
            "dbt's own elapsed (after parsing)",
            fmt_s,
            pick("build", "dbt_elapsed_seconds"),
        ),
        row("CPU used by the build / by other processes", cpu_split),
        row("nodes passed / not passed (exposures are no-ops)", passed_nodes),
        "",
        "Per stage: seconds summed over the stage's nodes (dbt runs two threads, "
        "so stages overlap and the sum exceeds the wall time) and, in brackets, "
        "the peak RSS of the process tree while any node of the stage ran "
        "(DuckDB keeps its buffer pool between nodes, so a stage inherits "
        "earlier stages' memory).",
        "",
        head,
        rule,
    ]
    stage_names: list[str] = []
    for k in keys:
        for stage in sizes[k]["stages"]:
            if stage["stage"] not in stage_names:
                stage_names.append(stage["stage"])

    def stage_cell(name: str):
        def show(s: dict) -> str:
            for stage in s["stages"]:
                if stage["stage"] == name:
                    return f"{fmt_s(stage['seconds'])} ({fmt_gb(stage['peak_rss_gb'])})"
            return "-"

        return show

    for name in stage_names:
        out.append(row(name, stage_cell(name)))
    last = keys[-1]
    slowest = ", ".join(
        f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
        for n in sizes[last]["slowest_nodes"][:6]
    )
    out += [
        "",
        f"Slowest nodes at {int(last):,} customers: {slowest}.",
        "",
    ]
    out += render_daily(report.get("daily", {}))
    out += render_stress(report.get("stress"))
    out += [
        "## SQL marts against the pandas way",
        "",
        "[bench/pandas_way.py](../bench/pandas_way.py) reads the shop CSVs, "
        "cleans them minimally and computes the RFM summary and scores, "
        "historical value and loyalty of `dim_customer_rfm`, "
        "`dim_customer_value` and `dim_customer_loyalty`, writing them to "
        "Parquet. The SQL side is `dbt run --full-refresh` of the SQL models "
        "those three marts depend on (the raw load included; the Python "
        "identity resolution, which pandas skips, is not run: its table "
        "from the full build is read). Each runs as its own measured "
        "process. Time: pandas' own timer (after imports) against dbt's "
        "elapsed time (after parsing); wall times with start-up are shown "
        "too. The SQL side does more work: it loads all nine raw tables as "
        "text, triages every row with a reason, prepares identity inputs "
        "and enforces contracts; pandas reads four files and treats a shop "
        "account as a customer.",
        "",
        head,
        rule,
        row("SQL marts: dbt elapsed", fmt_s, pick("sql_marts", "dbt_elapsed_seconds")),
        row(
            "SQL marts: wall (with dbt start-up and parsing)",
            fmt_s,
            pick("sql_marts", "wall_seconds"),
        ),
        row("SQL marts: peak RSS", fmt_gb, pick("sql_marts", "peak_rss_gb")),
        row("pandas: time (after imports)", fmt_s, pick("pandas", "seconds")),
        row("pandas: wall", fmt_s, pick("pandas", "wall_seconds")),
        row("pandas: peak RSS", fmt_gb, pick("pandas", "peak_rss_gb")),
        row(
            "**time ratio pandas / SQL** (target >= 3)",
            fmt_x,
            pick("pandas_vs_sql", "time_ratio"),
        ),
        row("wall ratio pandas / SQL", fmt_x, pick("pandas_vs_sql", "wall_ratio")),
        row(
            "**memory ratio pandas / SQL** (target >= 4)",
            fmt_x,
            pick("pandas_vs_sql", "memory_ratio"),
        ),
        row("customers in RFM: pandas / mart", rfm_customers),
        "",
        "## The floor: RFM by hand",
        "",
        "One hand-written DuckDB query (`FLOOR_SQL` in `bench/run.py`) builds "
        "the RFM mart from `marts.fct_orders` and `int_as_of_date` of the "
        "built file, with the profile's settings (2 threads, 12 GB), best of "
        "three; it is checked to give the same rows as `dim_customer_rfm`. "
        "The model's time is its `execution_time` in a `dbt run --threads 1` "
        "of it alone.",
        "",
        head,
        rule,
        row("dim_customer_rfm (dbt, alone)", fmt_s, pick("floor", "model_seconds")),
        row(
            "dim_customer_rfm (in the full build)",
            fmt_s,
            pick("floor", "model_seconds_in_full_build"),
        ),
        row("floor query", fmt_s, pick("floor", "seconds_best")),
        row("**model / floor** (target <= 1.5)", fmt_x, pick("floor", "ratio")),
        row("floor equals the mart", floor_equal),
    ]
    if any("bgnbd" in sizes[k] for k in keys):
        out += [
            "",
            "## BG/NBD: ours against lifetimes",
            "",
            "Same transactions: the completed orders up to `as_of_date` from "
            "`fct_orders`. lifetimes (`summary_data_from_transaction_data`, "
            "`freq='D'`, then `BetaGeoFitter(penalizer_coef=0).fit`) against "
            "our `dim_customer_rfm` and `crm_analytics.ml.clv.fit_bgnbd` on it "
            "(best of three). Same parameters: every parameter within "
            f"{PARAMETER_RTOL:.0%} of lifetimes'.",
            "",
            head,
            rule,
            row("customers", count, pick("bgnbd", "ours", "customers")),
            row("ours: fit", fmt_s, pick("bgnbd", "ours", "fit_seconds_best")),
            row("lifetimes: fit", fmt_s, pick("bgnbd", "lifetimes", "fit_seconds")),
            row(
                "**fit ratio lifetimes / ours** (target >= 4)",
                fmt_x,
                pick("bgnbd", "fit_ratio"),
            ),
            row(
                "lifetimes: summary_data_from_transaction_data",
                fmt_s,
                pick("bgnbd", "lifetimes", "summary_seconds"),
            ),
            row(
                "summary + fit ratio (ours: dim_customer_rfm alone + fit)",
                fmt_x,
                pick("bgnbd", "summary_plus_fit_ratio"),
            ),
            row("same RFM summary", yes_no, pick("bgnbd", "same_summary")),
            row("ours: r, alpha, a, b", params("ours")),
            row("lifetimes: r, alpha, a, b", params("lifetimes")),
            row(
                "largest relative parameter difference",
                "{:.1e}".format,
                pick("bgnbd", "max_rel_param_diff"),
            ),
            row(
                "int_clv_parameters in the full build (BG/NBD, Gamma-Gamma, "
                "holdout refit)",
                fmt_s,
                pick("bgnbd", "int_clv_parameters_seconds_in_full_build"),
            ),
        ]
    if any("associations" in sizes[k] for k in keys):
        settings = report["settings"]
        out += [
            "",
            "## Association rules: ours against mlxtend",
            "",
            "Same baskets: completed orders up to `as_of_date` from "
            "`fct_order_items`, at product and category level, min support "
            f"{settings['min_support']}, min confidence "
            f"{settings['min_confidence']}. mlxtend: one-hot frame, "
            "`fpgrowth(max_len=2)`, `association_rules(metric='confidence')`; "
            "its time is fpgrowth + association_rules (encoding shown "
            "apart). Ours: `fct_product_associations` alone (`dbt run "
            "--threads 1`). Equal metrics: the same rules, with support, "
            f"confidence and lift within {METRIC_ATOL:g}.",
            "",
            head,
            rule,
            row(
                "baskets (products)",
                count,
                pick("associations", "mlxtend", "levels", "product", "baskets"),
            ),
            row(
                "ours: fct_product_associations",
                fmt_s,
                pick("associations", "ours_seconds"),
            ),
            row("mlxtend: fpgrowth + association_rules", mlxtend_seconds),
            row(
                "mlxtend: one-hot encoding",
                fmt_s,
                pick("associations", "mlxtend", "encode_seconds"),
            ),
            row(
                "mlxtend: peak RSS",
                fmt_gb,
                pick("associations", "mlxtend_run", "peak_rss_gb"),
            ),
            row(
                "**ratio mlxtend / ours** (target >= 30)",
                fmt_x,
                pick("associations", "ratio"),
            ),
            row("rules: ours / mlxtend", rule_counts),
            row("largest difference (support, confidence, lift)", rule_diffs),
            row(
                "equal metrics",
                yes_no,
                pick("associations", "comparison", "equal"),
            ),
        ]
        if any("apriori" in sizes[k] for k in keys):
            out += [
                row(
                    "mlxtend apriori (products, default low_memory=False), "
                    f"capped at {settings['apriori_cap_gb']:g} GB",
                    apriori_outcome,
                ),
                "",
                "mlxtend's `apriori` with its default `low_memory=False` "
                "counts all candidate pairs at once: `np.all(X[:, combin], "
                "axis=2)` materialises baskets x candidate pairs x 2 booleans "
                "(200 frequent products give 19,900 pairs, about 40 KB per "
                "basket), so it runs out of memory from a few hundred "
                "thousand baskets on. It runs under an address-space cap "
                "(`RLIMIT_AS`, set once the one-hot frame is built, at what "
                "the process holds plus the cap) so that the failure is quick "
                "and harmless.",
            ]
            errors = [
                f"- At {int(k):,} customers: `{sizes[k]['apriori']['error']}`."
                for k in keys
                if sizes[k].get("apriori", {}).get("error")
            ]
            if errors:
                out += ["", *errors]
            redone = {
                sizes[k]["apriori"]["remeasured_at"]
                for k in keys
                if "remeasured_at" in sizes[k].get("apriori", {})
            }
            if redone:
                out += [
                    "",
                    f"(The apriori row was measured again at {min(redone)}, "
                    "after the run: the run had capped the whole process, so "
                    "at 1M the cap struck during one-hot encoding, before "
                    "apriori started.)",
                ]
    out += [
        "",
        "## How it is measured",
        "",
        "- Each size gets its data from `python -m crm_analytics.generate "
        f"--customers N --seed {report['settings']['seed']}` (kept in "
        "`bench/.work/` and reused while the generator is unchanged) and a "
        "fresh DuckDB file; dbt runs with `DBT_PROFILES_DIR=profiles`, "
        "`CRM_RAW_DIR`, `CRM_DUCKDB_PATH` and its own target and log folders.",
        "- Peak memory: the harness polls the resident set size of the "
        "command's whole process tree from `/proc` every 0.2 s and keeps the "
        "largest sum; the kernel's `ru_maxrss` of the largest single process "
        "is shown too (Python models run inside the dbt process).",
        "- Stage times come from dbt's `run_results.json` (`execution_time` "
        "per node, grouped by folder, each Python model on its own).",
        "- dbt runs in a copy of the project (models, macros, seeds, tests, "
        "`src/`) taken when the run starts, in `bench/.work/project/`, so "
        "edits made to the tree during a run do not leak into it.",
        "- Each command's output is in `bench/.work/size-N/*.log`; the build "
        "files stay in `bench/.work/size-N/build.duckdb` for profiling. "
        "`python bench/profile_model.py <python model> --database ... "
        "--manifest ...` runs one Python model on such a file without dbt "
        "(and without the raw reload of the on-run-start hook), e.g. under "
        "`bench/.venv-ref/bin/py-spy record`.",
    ]
    return "\n".join(out) + "\n"


DAILY_TARGET_SECONDS = 30


def render_daily(daily: dict) -> list[str]:
    """The section of ``bench/daily.py``'s runs: a base build, then one
    daily batch built incrementally into the same file."""
    out = [
        "## One-day incremental run",
        "",
        "Produced by `python bench/daily.py --customers N`, which files its "
        "figures here: a full build of the base data, then one daily batch "
        "(orders with late and updated ones, order lines, web and email "
        "events) built into the same file. The four cleaning models of the "
        "batched tables run incrementally; the raw load and everything "
        f"downstream run in full. Target: under {DAILY_TARGET_SECONDS} s at "
        "1M customers.",
        "",
    ]
    if not daily:
        return out + ["Not measured yet.", ""]
    keys = list(daily)

    def row(label: str, show) -> str:
        cells = []
        for k in keys:
            try:
                cells.append(show(daily[k]))
            except (KeyError, TypeError):
                cells.append("-")
        return f"| {label} | " + " | ".join(cells) + " |"

    def incremental(step: str):
        return lambda d: fmt_s(sum(d[step]["incremental_models_seconds"].values()))

    out += [
        "| | " + " | ".join(f"{int(k):,} customers" for k in keys) + " |",
        "|---|" + "---:|" * len(keys),
        row("project measured", lambda d: f"{d['project']}, {d['measured_at']}"),
        row("DuckDB memory_limit", lambda d: d["duckdb_memory_limit"]),
        row(
            "batch: files / rows",
            lambda d: f"{d['batch_files']} / {count(d['batch_rows'])}",
        ),
        row("base build wall time", lambda d: fmt_s(d["base"]["wall_seconds"])),
        row("**one-day run wall time**", lambda d: fmt_s(d["daily"]["wall_seconds"])),
        row(
            f"one-day run under {DAILY_TARGET_SECONDS} s",
            lambda d: yes_no(d["daily"]["wall_seconds"] < DAILY_TARGET_SECONDS),
        ),
        row(
            "peak RSS: base / one-day",
            lambda d: " / ".join(
                fmt_gb(d[step]["peak_rss_gb"]) for step in ("base", "daily")
            ),
        ),
        row(
            "one-day run: raw load (full reload)",
            lambda d: fmt_s(d["daily"]["raw_load_seconds"]),
        ),
        row("one-day run: the four incremental models", incremental("daily")),
        row("base build: the same four models", incremental("base")),
        row(
            "CPU of other processes during the one-day run",
            lambda d: fmt_s(d["daily"]["other_cpu_seconds"]),
        ),
        "",
    ]
    last = keys[-1]
    slowest = ", ".join(
        f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
        for n in daily[last]["daily"].get("slowest_nodes", [])[:6]
    )
    if slowest:
        out += [f"Slowest nodes of the one-day run at {int(last):,}: {slowest}.", ""]
    return out


def render_stress(stress: dict | None) -> list[str]:
    """The section of ``bench/stress.py``'s run: 100M order lines."""
    target = (stress or {}).get("order_lines_target", 100_000_000)
    customers = (stress or {}).get("customers", 1_000_000)
    out = [
        "## Stress run: "
        + (f"{target / 1e6:,.0f}M" if target >= 1e6 else f"{target:,}")
        + " order lines",
        "",
        f"Produced by `python bench/stress.py`: the {customers:,}-customer data "
        "set with its orders and order lines written again under new order "
        f"ids until the lines reach {target:,} (the same customers, several "
        "times the purchases), built once in full. DuckDB spills past its "
        "`memory_limit` to `temp_directory`; the propensity models fit on a "
        "sample and the recommendations read one row per customer x product "
        "and score in batches.",
        "",
    ]
    if not stress:
        return out + ["Not measured yet.", ""]
    build = stress["build"]
    rows = stress["raw_rows"]
    outcome = (
        "passed"
        if build["returncode"] == 0
        else f"**failed** (rc {build['returncode']}): "
        + ", ".join(
            f"`{n['node'].split('.')[-1]}` {n['status']}"
            for n in stress.get("not_passed", [])[:5]
        )
    )
    lines = f"{count(rows['order_lines'])} / {count(rows['orders'])}"
    table = [
        ("project measured", f"{stress['project']}, {stress['measured_at']}"),
        ("DuckDB memory_limit", stress["duckdb_memory_limit"]),
        ("dbt threads (models at once)", str(stress.get("dbt_threads", 2))),
        ("raw order lines / orders", lines),
        ("raw files", fmt_gb(stress["raw_gb"])),
        ("making the stress data (not the build)", fmt_s(stress["data_seconds"])),
        ("**`dbt build`**", outcome),
        ("**wall time**", fmt_s(build["wall_seconds"])),
        ("**peak RSS, process tree**", fmt_gb(build["peak_rss_gb"])),
        ("largest single process", fmt_gb(build["max_process_rss_gb"])),
        ("largest spill (temp_directory)", fmt_gb(build["largest_spill_gb"])),
        ("build file", fmt_gb(build.get("database_gb"))),
        ("CPU of other processes meanwhile", fmt_s(build["other_cpu_seconds"])),
        *(
            (f"rows in `marts.{t}`", count(n))
            for t, n in stress.get("mart_rows", {}).items()
        ),
    ]
    out += ["| | |", "|---|---:|", *(f"| {k} | {v} |" for k, v in table), ""]
    if stress.get("stages"):
        out += ["| stage | seconds (peak RSS) |", "|---|---:|"]
        out += [
            f"| {st['stage']} | {fmt_s(st['seconds'])} ({fmt_gb(st['peak_rss_gb'])}) |"
            for st in stress["stages"]
        ]
        out.append("")
    if stress.get("slowest_nodes"):
        slowest = ", ".join(
            f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
            for n in stress["slowest_nodes"][:8]
        )
        out += [f"Slowest nodes: {slowest}.", ""]
    return out


def shared_note(report: dict) -> str:
    other = sum(s["build"]["other_cpu_seconds"] for s in report["sizes"].values())
    own = sum(s["build"]["cpu_seconds"] for s in report["sizes"].values())
    cores = report["machine"]["cores"]
    busy = "shared" if other > 0.1 * own else "mostly ours"
    return (
        f"The {cores} cores were {busy} during these runs: while the full builds "
        f"ran, other processes on the machine used {other:,.0f} CPU-seconds "
        f"against the builds' own {own:,.0f} (per command in the JSON, "
        "`other_cpu_seconds`); load average "
        f"{report['machine']['load_average_at_start']} at the start."
    )


def main() -> int:
    global PROJECT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-apriori", action="store_true")
    parser.add_argument("--ref-timeout", type=float, default=3600)
    parser.add_argument("--apriori-timeout", type=float, default=900)
    parser.add_argument("--apriori-cap-gb", type=float, default=8)
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the sizes of an existing --json that this run does not redo",
    )
    parser.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run dbt in the working tree instead of a copy taken at the start",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="measure the full build only; with --merge, a size's comparisons "
        "(pandas, floor, lifetimes, mlxtend) are kept from the earlier run",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite --out from the figures in --json without running anything",
    )
    parser.add_argument("--min-support", default="0.001")
    parser.add_argument("--min-confidence", default="0.05")
    args = parser.parse_args()
    args.work = args.work.resolve()
    out = (REPO / args.out) if not args.out.is_absolute() else args.out
    json_path = (REPO / args.json) if not args.json.is_absolute() else args.json
    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()]
    if args.render_only:
        out.write_text(render(json.loads(json_path.read_text())))
        log(f"wrote {out} from {json_path}")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    snapshot = None
    if not args.no_snapshot:
        PROJECT = args.work / "project"
        snapshot = snapshot_project(PROJECT)
        log(f"benchmarking a copy of the project in {PROJECT} ({snapshot})")
    sys.path.insert(0, str(PROJECT / "src"))

    report: dict = {
        "arguments": sys.argv[1:],
        "json": str(json_path.relative_to(REPO))
        if json_path.is_relative_to(REPO)
        else str(json_path),
        "started_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "machine": {**machine_facts(), "project_snapshot": snapshot},
        "settings": {
            "seed": args.seed,
            "min_support": args.min_support,
            "min_confidence": args.min_confidence,
            "apriori_cap_gb": args.apriori_cap_gb,
        },
        "targets": TARGETS,
        "sizes": {},
    }
    kept_comparisons: dict = {}
    if args.merge and json_path.exists():
        previous = json.loads(json_path.read_text())
        report["sizes"] = {
            k: v for k, v in previous["sizes"].items() if int(k) not in sizes
        }
        for kept in report["sizes"].values():
            # sizes kept from the earlier run carry the commit they measured
            kept.setdefault("project", project_version(previous["machine"]))
        report["started_at"] = previous["started_at"]
        if args.build_only:
            kept_comparisons = {
                k: v for k, v in previous["sizes"].items() if int(k) in sizes
            }
        report["merged"] = previous.get("merged", []) + [previous["arguments"]]
        for kept in ("daily", "stress"):  # bench/daily.py's and bench/stress.py's
            if kept in previous:
                report[kept] = previous[kept]
    log(f"machine: {report['machine']['cores']} cores, "
        f"{report['machine']['ram_gb']} GB; sizes {sizes}")  # fmt: skip
    ref_python = None
    if not args.skip_reference:
        ref_python = reference_python(args.work)
        report["reference_versions"] = reference_versions(ref_python)
    hash_key = secrets.token_hex(32)
    for customers in sizes:
        log(f"=== {customers:,} customers")
        try:
            result = bench_size(customers, args, hash_key, ref_python)
        except BuildFailed as error:
            log(f"stopping: {error}")
            return 1
        result["project_snapshot"] = snapshot
        result["project"] = project_version(report["machine"])
        earlier = kept_comparisons.get(str(customers))
        if earlier:
            for key in COMPARISONS:
                if key in earlier:
                    result[key] = earlier[key]
            result["comparisons_project"] = earlier.get(
                "project", project_version(previous["machine"])
            )
        if args.build_only:
            result["targets"] = evaluate_targets(result)
        report["sizes"][str(customers)] = result
        report["sizes"] = dict(sorted(report["sizes"].items(), key=lambda x: int(x[0])))
        report["finished_at"] = f"{dt.datetime.now():%Y-%m-%d %H:%M}"
        report["shared_note"] = shared_note(report)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(report))
        log(f"targets at {customers:,}: {report['sizes'][str(customers)]['targets']}")
        log(f"wrote {out} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
