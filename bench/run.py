"""A benchmark anyone can rerun: data sizes x time, memory and rivals.

    python bench/run.py [--sizes 10000,100000,1000000] [--out docs/benchmarks.md]

One run measures everything on the page (``make bench``), at one commit:

- the demo build: ``python -m crm_analytics.publish`` (dbt build, docs,
  publish) on the generated 5,000-customer demo data (``--demo-customers``);
- the BG/NBD fit alone, ours against lifetimes: ``bench/bgnbd_fit.py`` on
  simulated customers (``--bgnbd-sizes``);
- a transactions-only input (``generate --transactions-only``, 100,000
  customers, ``--transactions-sizes``): the full build against the floor
  (one DuckDB statement computing the RFM and value marts from the CSV)
  plus the build's Python models;
- for each size (``--sizes``; customers, about 10 orders each):

  1. the data from ``python -m crm_analytics.generate`` into
     ``bench/.work/data-<N>`` (kept and reused while the generator is
     unchanged);
  2. the full build, ``dbt build`` as the publish runs it, into a scratch
     DuckDB file: wall time and peak memory (RSS of the process tree,
     polled from /proc), the raw load from the line the project's dbt-duckdb
     plugin prints (``raw files loaded in N s``), and every stage (staging,
     intermediate, marts, tests, each Python model) from dbt's
     ``run_results.json``;
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

then judges the targets (issue 20) and writes a markdown report (``--out``)
and the raw figures as JSON (``--json``), after every step. The one-day run
(``bench/daily.py``) and the stress run (``bench/stress.py``) file their
own sections into the same JSON and page; a new run keeps them only when
they measured the same project files, and the page flags any that did not.
Progress goes to stdout; every command's output to ``bench/.work/*/*.log``.
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

from crm_analytics.settings import ENV_SETTINGS, dbt_environment, environment_value

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

# The profile's DuckDB memory_limit when CRM_DUCKDB_MEMORY_LIMIT is unset:
# the targets are stated for the default profile.
DEFAULT_MEMORY_LIMIT = str(ENV_SETTINGS["CRM_DUCKDB_MEMORY_LIMIT"].default)


def duckdb_settings() -> dict:
    """The profile's settings (profiles/profiles.yml), for the hand-written
    floor queries."""
    return {
        "threads": 2,
        "memory_limit": str(environment_value("CRM_DUCKDB_MEMORY_LIMIT")),
    }


# The targets of the benchmark page (issue 20), each judged at its own size:
# the full build, pandas and mlxtend comparisons at TARGET_CUSTOMERS (the
# run's --target-size), the rest as named.
TARGET_CUSTOMERS = 1_000_000
BUILD_SECONDS, BUILD_GB = 300, 8
DAILY_BUILD_SECONDS, DAILY_END_TO_END_SECONDS = 30, 60
PANDAS_TIME_RATIO, PANDAS_MEMORY_RATIO = 3, 4
TRANSACTIONS_CUSTOMERS, TRANSACTIONS_FACTOR = 100_000, 10
DEMO_CUSTOMERS, DEMO_SECONDS = 5_000, 20
STRESS_LINES, STRESS_SECONDS, STRESS_GB, STRESS_THREADS = 100_000_000, 1200, 16, 2
ASSOCIATIONS_RATIO = 30
BGNBD_RATIO = 4
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
DBT_STAMP = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?\s+(\[\w+\s*\]\s+\[[^\]]*\]:\s+)?")


def output_line(line: str) -> str:
    """A line of dbt's output (or of logs/dbt.log) without colour codes and
    its time stamp (and dbt.log's level and thread)."""
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
    full = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
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
        "git_commit_full": full.stdout.strip(),
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


def dbt_env(
    size_dir: Path,
    raw_dir: Path,
    target: str,
    hash_key: str,
    build_path: Path | None = None,
    serving_path: Path | None = None,
) -> dict:
    """The environment of a dbt run (or a publish) of the snapshot, writing
    ``build_path`` (default ``size_dir/build.duckdb``) and, for a publish,
    ``serving_path`` (default ``size_dir/crm.duckdb``)."""
    return dbt_environment(
        raw_dir=raw_dir,
        build_path=build_path or size_dir / "build.duckdb",
        serving_path=serving_path or size_dir / "crm.duckdb",
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


def load_build_results(build: Measured, target: Path) -> tuple[dict, dict]:
    """load_results of a measured build; BuildFailed when dbt wrote none."""
    if not (target / "run_results.json").exists() or (
        (target / "run_results.json").stat().st_mtime < build.started_at
    ):
        raise BuildFailed(f"dbt stopped before running any node; see {build.log}")
    return load_results(target)


def build_summary(build: Measured, run_results: dict) -> dict:
    """A measured build's figures, with its nodes' statuses."""
    statuses: dict[str, int] = defaultdict(int)
    for r in run_results["results"]:
        statuses[r["status"]] += 1
    return {
        **build.summary(),
        "dbt_command": " ".join(["dbt", *build.command[1:]]),
        "dbt_elapsed_seconds": round(run_results["elapsed_time"], 2),
        "statuses": dict(statuses),
        "not_passed": [
            r["unique_id"]
            for r in run_results["results"]
            if r["status"] not in ("success", "pass", "no-op")
        ],
        "rss_timeline": timeline(build.started_at, build.samples),
    }


def load_results(target: Path) -> tuple[dict, dict]:
    run_results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    return run_results, manifest


def node_label(unique_id: str) -> str:
    """A node's name from its unique_id: ``model.pkg.name`` and
    ``test.pkg.name.hash`` both give ``name``."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def failure_reason(message: str | None) -> str:
    """The last clause of a dbt error message (``... : No space left on
    device``), which names the cause without the paths before it."""
    last = (message or "").strip().splitlines()[-1:] or [""]
    return last[0].rsplit(": ", 1)[-1].strip()


def alone_run_flags(sizes: dict, keys: list) -> str:
    """The flags of the run of the RFM and association models alone, as
    the largest size ran it (an older results file may predate
    ``--full-refresh`` there)."""
    for key in reversed(keys):
        command = sizes[key].get("floor", {}).get("alone_run", {}).get("command")
        if command:
            return " ".join(command[2 : command.index("--select")])
    return "--threads 1 --full-refresh"


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
    with duckdb.connect(str(database), config=duckdb_settings()) as con:
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
                # the raw tables, not the loader's manifest and problems
                "select table_name from duckdb_tables() where schema_name = 'raw' "
                "and not starts_with(table_name, '_') order by 1"
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


def rel(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def generate(
    customers: int,
    seed: int,
    work: Path,
    force: bool,
    transactions_only: bool = False,
) -> dict:
    """``python -m crm_analytics.generate`` into ``work/data-<N>`` (or
    ``data-tx-<N>`` with ``--transactions-only``), kept and reused while
    the generator and its arguments are unchanged."""
    data = work / (f"data-tx-{customers}" if transactions_only else f"data-{customers}")
    stamp = data / ".generated.json"
    wanted = {
        "customers": customers,
        "seed": seed,
        "generator": generator_digest(),
        "transactions_only": transactions_only,
    }
    if not transactions_only:
        del wanted["transactions_only"]  # as the stamps of earlier runs
    if stamp.exists() and not force:
        done = json.loads(stamp.read_text())
        if all(done.get(k) == v for k, v in wanted.items()):
            log(f"data for {customers:,} customers: reusing {rel(data)}")
            return {**done, "reused": True}
    shutil.rmtree(data, ignore_errors=True)
    log(f"generating {customers:,} customers -> {rel(data)}")
    only = ["--transactions-only"] if transactions_only else []
    measured = measure(
        [PYTHON, "-m", "crm_analytics.generate", "--customers", customers,
         "--seed", seed, "--out", data, "--quiet", *only],
        work / f"generate-{data.name.removeprefix('data-')}.log",
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
    run_results, manifest = load_build_results(build, size_dir / "target-build")
    result["build"] = build_summary(build, run_results)
    statuses = result["build"]["statuses"]
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
    log("dim_customer_rfm, int_order_baskets and fct_product_associations "
        "alone (1 dbt thread)")  # fmt: skip
    # --full-refresh: int_order_baskets is incremental, and the SQL-marts
    # step above rebuilt its input, so without it this run would rebuild
    # every customer's baskets by the incremental path (delete, change
    # rule, insert) rather than encode them once, as mlxtend's one-hot
    # frame is built once.
    alone = measure(
        [DBT, "run", "--threads", "1", "--full-refresh", "--select",
         "dim_customer_rfm", "int_order_baskets", "fct_product_associations"],
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
        # Our encoding: the baskets as sorted item-key lists, which the
        # rules count from as mlxtend's fpgrowth counts from its one-hot
        # frame; each is shown apart from the mining, and with it.
        ours_encode_seconds = alone_times["int_order_baskets"]
        assoc: dict = {
            "ours_seconds": round(ours_seconds, 3),
            "ours_encode_seconds": round(ours_encode_seconds, 3),
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
                (mlx_seconds + theirs["encode_seconds"])
                / (ours_seconds + ours_encode_seconds),
                2,
            )
            assoc["comparison"] = compare_rules(
                export / "rules.parquet", size_dir / "mlxtend_rules.parquet"
            )
            log(f"  ours {ours_seconds:.2f} s, mlxtend {mlx_seconds:.2f} s, "
                f"{assoc['comparison']}")  # fmt: skip
        result["associations"] = assoc

        if not args.skip_apriori:
            result["apriori"] = run_apriori(size_dir, args, ref_python)

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


# --- transactions only ------------------------------------------------------------

TX_FLOOR_SQL = """
create or replace table floor_customers as
with
transactions as (
    select *
    from read_csv({path}, header = true, delim = ',', quote = '"',
        escape = '"', columns = {{
            'customer_id': 'varchar', 'transacted_at': 'timestamp',
            'amount': 'decimal(38, 2)', 'order_id': 'varchar'}})
    where amount >= 0
),
orders as (
    select
        customer_id,
        order_id,
        min(transacted_at) as ordered_at,
        sum(amount) as revenue
    from transactions
    group by all
),
as_of as (select max(ordered_at)::date as as_of_date from orders),
days as (
    select
        customer_id,
        ordered_at::date as order_date,
        count(*) as count_orders,
        sum(revenue) as revenue
    from orders
    group by all
),
summary as (
    select
        d.customer_id,
        count(*) - 1 as frequency,
        max(d.order_date) - min(d.order_date) as recency,
        any_value(a.as_of_date) - min(d.order_date) as t,
        coalesce(
            (sum(d.revenue) - arg_min(d.revenue, d.order_date))
            / nullif(count(*) - 1, 0),
            0
        ) as monetary_value,
        sum(d.count_orders) as count_orders,
        sum(d.revenue) as net_revenue,
        min(d.order_date) as first_purchase_period_start,
        max(d.order_date) as last_purchase_date,
        any_value(a.as_of_date) - max(d.order_date) as days_since_last_purchase,
        any_value(a.as_of_date) as as_of_date
    from days as d, as_of as a
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
            order by net_revenue)))::integer as m_score,
        cume_dist() over (order by net_revenue desc) as pct_buyers_at_or_above,
        sum(net_revenue) over () as total_net_revenue
    from summary
)
select
    s.customer_id,
    m.rfm_segment,
    concat(s.r_score, s.f_score, s.m_score) as rfm_cell,
    s.frequency,
    s.recency::double as recency,
    s.t::double as t,
    s.monetary_value::double as monetary_value,
    s.days_since_last_purchase,
    s.count_orders::bigint as count_orders,
    s.net_revenue::decimal(38, 2) as sum_net_revenue,
    s.r_score,
    s.f_score,
    s.m_score,
    s.first_purchase_period_start,
    s.last_purchase_date,
    s.as_of_date,
    case
        when s.pct_buyers_at_or_above <= 0.01 then 'top 1%'
        when s.pct_buyers_at_or_above <= 0.05 then 'top 5%'
        when s.pct_buyers_at_or_above <= 0.20 then 'top 20%'
        else 'other buyers'
    end as value_tier,
    s.net_revenue::decimal(38, 2) as lifetime_net_revenue,
    (s.net_revenue / s.count_orders)::decimal(38, 2) as avg_order_value,
    round(s.net_revenue / nullif(s.total_net_revenue, 0), 6)
        as pct_of_total_net_revenue,
    s.pct_buyers_at_or_above
from scored as s
left join read_csv({segment_map}, header = true, columns = {{
        'r_score': 'integer', 'f_score': 'integer', 'rfm_segment': 'varchar'}})
    as m
    on s.r_score = m.r_score and s.f_score = m.f_score
"""
"""The floor of the transactions-only build: one DuckDB statement computing
the RFM and value marts (dim_customer_rfm, dim_customer_value: one row per
customer with both) straight from transactions.csv. It does only what the
generated file needs (ISO timestamps, plain amounts, every row with an
order id, no refunds, one customer per customer_id); TX_FLOOR_CHECK checks
it gives the marts' figures."""

TX_FLOOR_CHECK = """
with
floor as (
    select
        coalesce(i.customer_id, 'unmapped: ' || f.customer_id) as customer_id,
        f.* exclude (customer_id)
    from floor_customers as f
    left join build.intermediate.int_customer_identity_map as i
        on i.source_system = 'transactions'
        and i.source_customer_id = f.customer_id
),
marts as (
    select
        v.customer_id, v.value_tier, v.count_completed_orders,
        v.lifetime_net_revenue, v.lifetime_gross_revenue, v.avg_order_value,
        v.pct_of_total_net_revenue, v.pct_buyers_at_or_above,
        r.rfm_segment, r.rfm_cell, r.frequency, r.recency, r.t,
        r.monetary_value, r.days_since_last_purchase, r.count_orders,
        r.sum_net_revenue, r.first_purchase_period_start,
        r.last_purchase_date, r.as_of_date
    from build.marts.dim_customer_value as v
    left join build.marts.dim_customer_rfm as r
        on v.customer_id = r.customer_id
)
select
    count(*) filter (where f.customer_id is null or m.customer_id is null),
    count(*) filter (
        where f.customer_id is not null and m.customer_id is not null and (
            f.rfm_segment is distinct from m.rfm_segment
            or f.rfm_cell is distinct from m.rfm_cell
            or f.frequency is distinct from m.frequency
            or f.recency is distinct from m.recency
            or f.t is distinct from m.t
            or abs(f.monetary_value - m.monetary_value) > 1e-6
            or m.monetary_value is null
            or f.days_since_last_purchase
                is distinct from m.days_since_last_purchase
            or f.count_orders is distinct from m.count_orders
            or f.count_orders is distinct from m.count_completed_orders
            or f.sum_net_revenue is distinct from m.sum_net_revenue
            or f.first_purchase_period_start
                is distinct from m.first_purchase_period_start
            or f.last_purchase_date is distinct from m.last_purchase_date
            or f.as_of_date is distinct from m.as_of_date
            or f.value_tier is distinct from m.value_tier
            or f.lifetime_net_revenue is distinct from m.lifetime_net_revenue
            or f.lifetime_net_revenue is distinct from m.lifetime_gross_revenue
            or f.avg_order_value is distinct from m.avg_order_value
            or abs(f.pct_of_total_net_revenue - m.pct_of_total_net_revenue)
                > 1e-9
            or abs(f.pct_buyers_at_or_above - m.pct_buyers_at_or_above) > 1e-9
        )
    ),
    count(*)
from floor as f
full join marts as m on f.customer_id = m.customer_id
"""


def sql_literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def run_tx_floor(csv: Path, database: Path, repeats: int = 3) -> dict:
    """Time TX_FLOOR_SQL on ``csv`` (best of ``repeats``, in memory, with
    the profile's DuckDB settings) and check it against the marts of the
    build file ``database``."""
    sql = TX_FLOOR_SQL.format(
        path=sql_literal(csv),
        segment_map=sql_literal(PROJECT / "seeds" / "rfm_segment_map.csv"),
    )
    with duckdb.connect(config=duckdb_settings()) as con:
        con.execute("set TimeZone = 'UTC'")  # as the profile
        seconds = []
        for _ in range(repeats):
            clock = time.perf_counter()
            con.execute(sql)
            seconds.append(time.perf_counter() - clock)
        customers = con.execute("select count(*) from floor_customers").fetchone()[0]
        con.execute(f"attach {sql_literal(database)} as build (read_only)")
        unmatched, different, total = con.execute(TX_FLOOR_CHECK).fetchone()
    return {
        "seconds_best": round(min(seconds), 3),
        "seconds_all": [round(s, 3) for s in seconds],
        "customers": customers,
        "rows": total,
        "rows_unmatched": unmatched,
        "rows_different": different,
        "equal_to_marts": unmatched == 0 and different == 0,
    }


def python_node_seconds(run_results: dict, manifest: dict) -> dict[str, float]:
    """execution_time of every Python model of a build, by name."""
    nodes = manifest["nodes"]
    return {
        nodes[r["unique_id"]]["name"]: round(r["execution_time"] or 0, 2)
        for r in run_results["results"]
        if nodes.get(r["unique_id"], {}).get("language") == "python"
    }


def bench_transactions(customers: int, args, hash_key: str) -> dict:
    """The full build on a transactions-only input (``generate
    --transactions-only``) against the floor (TX_FLOOR_SQL on the CSV) plus
    the build's Python models ("the ML")."""
    work = args.work
    result: dict = {
        "customers": customers,
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
        "generate": generate(
            customers, args.seed, work, args.regenerate, transactions_only=True
        ),
    }
    raw_dir = work / f"data-tx-{customers}" / "raw"
    tx_dir = work / f"tx-{customers}"
    shutil.rmtree(tx_dir, ignore_errors=True)
    tx_dir.mkdir(parents=True)
    log(f"dbt build, transactions only, {customers:,} customers")
    build = measure(
        build_command(),
        tx_dir / "dbt_build.log",
        "dbt build",
        env=dbt_env(tx_dir, raw_dir, "target-build", hash_key),
        watch=(LOAD_DONE,),
    )
    run_results, manifest = load_build_results(build, tx_dir / "target-build")
    result["build"] = build_summary(build, run_results)
    log(f"  build: {build.wall_seconds:.0f} s, peak "
        f"{build.peak_rss_bytes / GB:.2f} GB, exit {build.returncode}")  # fmt: skip
    if build.returncode != 0:
        failed = ", ".join(result["build"]["not_passed"][:5])
        raise BuildFailed(f"dbt build failed ({failed}); see {build.log}")
    result["load"] = raw_load_of(build)
    result["stages"] = stage_table(run_results, manifest, build.samples, result["load"])
    result["slowest_nodes"] = slowest_nodes(run_results)
    python = python_node_seconds(run_results, manifest)
    result["python_models"] = python
    result["ml_seconds"] = round(sum(python.values()), 2)
    tables = (result["load"] or {}).get("tables", {})
    result["transactions"] = tables.get("transactions", {}).get("rows")
    log("floor: one statement from transactions.csv")
    floor = run_tx_floor(raw_dir / "transactions.csv", tx_dir / "build.duckdb")
    result["floor"] = floor
    bound = floor["seconds_best"] + result["ml_seconds"]
    result["floor_plus_ml_seconds"] = round(bound, 2)
    result["ratio"] = round(build.wall_seconds / bound, 2)
    log(f"  build {build.wall_seconds:.1f} s, floor {floor['seconds_best']:.2f} s"
        f" + ML {result['ml_seconds']:.1f} s: {result['ratio']}x; floor equals "
        f"the marts: {floor['equal_to_marts']}")  # fmt: skip
    return result


# --- the demo build ---------------------------------------------------------------

PUBLISH_STEPS = ("dbt build -> ", "dbt docs generate", "publishing ", "published ")
"""The lines ``python -m crm_analytics.publish`` prints as it starts each
step, and once done."""


def publish_steps(measured: Measured) -> dict[str, float | None]:
    """Seconds of the publish's steps, from when their lines appeared (to
    within the poll interval): start-up, dbt build, docs, copy."""
    marks = measured.marks
    points = [0.0, *(marks.get(text) for text in PUBLISH_STEPS[:3])]
    points.append(measured.wall_seconds)
    names = ("start-up", "dbt build", "dbt docs generate", "publish")
    steps: dict[str, float | None] = {}
    for name, start, end in zip(names, points[:-1], points[1:], strict=True):
        steps[name] = (
            round(end - start, 2) if start is not None and end is not None else None
        )
    return steps


def bench_demo(customers: int, args, hash_key: str) -> dict:
    """``python -m crm_analytics.publish`` (the build step of ``make
    demo``: dbt build, dbt docs generate, publish) on the generated demo
    data, into a new build file, as on a first ``make demo``."""
    work = args.work
    result: dict = {
        "customers": customers,
        "duckdb_memory_limit": environment_value("CRM_DUCKDB_MEMORY_LIMIT"),
        "generate": generate(customers, args.seed, work, args.regenerate),
    }
    raw_dir = work / f"data-{customers}" / "raw"
    demo_dir = work / f"demo-{customers}"
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    env = dbt_env(demo_dir, raw_dir, "target", hash_key)
    log(f"demo: python -m crm_analytics.publish, {customers:,} customers")
    published = measure(
        [PYTHON, "-m", "crm_analytics.publish"],
        demo_dir / "publish.log",
        "publish",
        env=env,
        watch=(*PUBLISH_STEPS, LOAD_DONE),
    )
    result["publish"] = published.summary()
    result["steps"] = publish_steps(published)
    result["load"] = raw_load_of(published)
    text = Path(REPO / published.log).read_text(errors="replace")
    done = [output_line(x) for x in text.splitlines() if "Done. PASS=" in x]
    result["dbt_done"] = done[0] if done else None
    log(f"  publish: {published.wall_seconds:.1f} s, exit {published.returncode}, "
        f"steps {result['steps']}")  # fmt: skip
    if published.returncode != 0:
        raise BuildFailed(f"the demo publish failed; see {published.log}")
    return result


# --- BG/NBD fit alone -------------------------------------------------------------


def run_bgnbd_fit(args) -> dict:
    """bench/bgnbd_fit.py (ours against lifetimes on simulated customers,
    one BLAS thread) at ``args.bgnbd_sizes``, with its figures."""
    out = args.work / "bgnbd_fit.json"
    out.unlink(missing_ok=True)
    log(f"BG/NBD fit alone: bench/bgnbd_fit.py --sizes {args.bgnbd_sizes}")
    fit = measure(
        [PYTHON, BENCH / "bgnbd_fit.py", "--sizes", args.bgnbd_sizes,
         "--json", out],
        args.work / "bgnbd_fit.log",
        "bgnbd_fit",
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        timeout=args.ref_timeout,
    )  # fmt: skip
    result = {"run": fit.summary()}
    if out.exists():
        result.update(json.loads(out.read_text()))
    if fit.returncode != 0:
        result["error"] = _last_line(Path(REPO / fit.log))
    for size, figures in result.get("sizes", {}).items():
        log(f"  {int(size):,}: CPU {figures['cpu_ratio']}x, wall "
            f"{figures['wall_ratio']}x, parameters within "
            f"{figures['max_rel_param_diff']:.1e}")  # fmt: skip
    return result


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


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _at(size: int) -> str:
    return f"{size:,} customers"


def same_code(report: dict, section: dict) -> bool:
    """Whether ``section`` (bench/daily.py's or bench/stress.py's figures)
    measured the same project files as the run of ``report``."""
    ours = report.get("machine", {}).get("project_snapshot")
    return ours is not None and section.get("project_snapshot") == ours


def section_source(report: dict, script: str, section: dict) -> str:
    """Where a section's figures come from, flagged when its code differs
    from the page's run."""
    project = section.get("project", "?")
    text = f"{script}, {project}, {section.get('measured_at', '?')}"
    if not same_code(report, section):
        text += " (**other code than this page's run**)"
    elif project != project_version(report["machine"]):
        text += " (another commit, same project files as this page's run)"
    return text


def default_profile_problem(memory_limit: object, threads: int = 2) -> str | None:
    """Why a run did not use the default profile, or None."""
    problems = []
    if memory_limit is not None and str(memory_limit) != DEFAULT_MEMORY_LIMIT:
        problems.append(
            f"memory_limit {memory_limit}, not the profile's {DEFAULT_MEMORY_LIMIT}"
        )
    if threads != 2:
        problems.append(f"{threads} dbt thread(s), not the profile's 2")
    return "; ".join(problems) or None


def target_rows(report: dict) -> list[dict]:
    """The targets of the page (issue 20), each with its figure, verdict
    (met, missed, or why it was not judged) and the run it comes from."""
    settings = report.get("settings", {})
    size = int(settings.get("target_customers", TARGET_CUSTOMERS))
    sizes = report.get("sizes", {})
    this_run = f"bench/run.py, {project_version(report['machine'])}"
    at_size = sizes.get(str(size))
    rows = []

    def add(target: str, source: str, figure: str, verdict: str) -> None:
        rows.append(
            {"target": target, "figure": figure, "verdict": verdict, "source": source}
        )

    def missing(target: str, source: str, what: str) -> None:
        add(target, source, "-", f"not measured ({what})")

    # the full build
    target = (
        f"full build at {_at(size)}: <= {BUILD_SECONDS} s and <= {BUILD_GB} GB "
        "peak, default profile"
    )
    if at_size is None:
        missing(target, this_run, f"no build at {_at(size)}")
    else:
        build = at_size["build"]
        figure = f"{fmt_s(build['wall_seconds'])}, {fmt_gb(build['peak_rss_gb'])} peak"
        problem = default_profile_problem(at_size.get("duckdb_memory_limit"))
        if build["returncode"] != 0:
            verdict = "**missed** (the build failed)"
        elif problem:
            verdict = f"not judged: {problem}"
        else:
            verdict = _met(
                build["wall_seconds"] <= BUILD_SECONDS
                and build["peak_rss_bytes"] <= BUILD_GB * GB
            )
        add(target, this_run, figure, verdict)

    # the one-day run
    daily = report.get("daily", {}).get(str(size))
    for key, label, limit in (
        ("daily", "`dbt build`", DAILY_BUILD_SECONDS),
        ("end_to_end", "end to end with publish", DAILY_END_TO_END_SECONDS),
    ):
        target = f"one-day incremental run at {_at(size)}: {label} <= {limit} s"
        if daily is None:
            missing(target, "bench/daily.py", "run `make bench-daily`")
        elif key not in daily:
            missing(
                target,
                section_source(report, "bench/daily.py", daily),
                "an older bench/daily.py",
            )
        else:
            run = daily[key]
            problem = default_profile_problem(daily.get("duckdb_memory_limit"))
            verdict = (
                "**missed** (it failed)"
                if run.get("returncode", 0) != 0
                else f"not judged: {problem}"
                if problem
                else _met(run["wall_seconds"] <= limit)
            )
            add(
                target,
                section_source(report, "bench/daily.py", daily),
                fmt_s(run["wall_seconds"]),
                verdict,
            )

    # SQL marts against pandas
    target = (
        f"SQL marts against pandas at {_at(size)}: >= {PANDAS_TIME_RATIO}x "
        f"faster and >= {PANDAS_MEMORY_RATIO}x leaner"
    )
    ratios = (at_size or {}).get("pandas_vs_sql")
    if ratios is None:
        missing(target, this_run, f"no pandas comparison at {_at(size)}")
    else:
        add(
            target,
            this_run,
            f"pandas / SQL: time {fmt_x(ratios['time_ratio'])}, "
            f"memory {fmt_x(ratios['memory_ratio'])}",
            _met(
                ratios["time_ratio"] >= PANDAS_TIME_RATIO
                and ratios["memory_ratio"] >= PANDAS_MEMORY_RATIO
            ),
        )

    # transactions only
    tx_size = TRANSACTIONS_CUSTOMERS
    target = (
        f"transactions-only input, {_at(tx_size)}: full build <= "
        f"{TRANSACTIONS_FACTOR}x (floor + ML)"
    )
    tx = report.get("transactions", {})
    tx_run = tx.get(str(tx_size))
    if tx_run is None and tx:
        tx_size = max(int(k) for k in tx)
        tx_run = tx[str(tx_size)]
    if tx_run is None:
        missing(target, this_run, "no transactions-only build")
    else:
        figure = (
            f"{fmt_s(tx_run['build']['wall_seconds'])} against "
            f"{fmt_s(tx_run['floor']['seconds_best'])} + "
            f"{fmt_s(tx_run['ml_seconds'])}: {fmt_x(tx_run['ratio'])}"
        )
        if tx_size != TRANSACTIONS_CUSTOMERS:
            figure += f" (at {_at(tx_size)})"
            verdict = "not judged: another size"
        elif not tx_run["floor"]["equal_to_marts"]:
            verdict = "not judged: the floor differs from the marts"
        else:
            verdict = _met(tx_run["ratio"] <= TRANSACTIONS_FACTOR)
        add(target, this_run, figure, verdict)

    # the demo build
    target = (
        f"the demo build ({_at(DEMO_CUSTOMERS)}) in `make demo`: <= {DEMO_SECONDS} s"
    )
    demo = report.get("demo")
    if demo is None:
        missing(target, this_run, "no demo build")
    else:
        figure = fmt_s(demo["publish"]["wall_seconds"])
        if demo["customers"] != DEMO_CUSTOMERS:
            figure += f" (at {_at(demo['customers'])})"
            verdict = "not judged: another size"
        elif demo["publish"]["returncode"] != 0:
            verdict = "**missed** (it failed)"
        else:
            verdict = _met(demo["publish"]["wall_seconds"] <= DEMO_SECONDS)
        add(target, this_run, figure, verdict)

    # the stress run
    target = (
        f"{STRESS_LINES / 1e6:,.0f}M order lines (bench/stress.py): "
        f"<= {STRESS_SECONDS:,} s and <= {STRESS_GB} GB, default settings"
    )
    stress = report.get("stress")
    if stress is None:
        missing(target, "bench/stress.py", "run `make bench-stress`")
    else:
        build = stress["build"]
        figure = f"{fmt_s(build['wall_seconds'])}, {fmt_gb(build['peak_rss_gb'])} peak"
        problem = default_profile_problem(
            stress.get("duckdb_memory_limit"), stress.get("dbt_threads", 2)
        )
        if stress["order_lines_target"] != STRESS_LINES:
            figure += f" (at {stress['order_lines_target']:,} lines)"
            verdict = "not judged: another size"
        elif build["returncode"] != 0:
            verdict = "**missed** (the build failed)"
        elif problem:
            verdict = f"not judged: {problem}"
        else:
            verdict = _met(
                build["wall_seconds"] <= STRESS_SECONDS
                and build["peak_rss_gb"] <= STRESS_GB
            )
        add(target, section_source(report, "bench/stress.py", stress), figure, verdict)

    # association rules
    target = (
        f"association rules against mlxtend fpgrowth at {_at(size)}: "
        f">= {ASSOCIATIONS_RATIO}x, equal metrics"
    )
    assoc = (at_size or {}).get("associations")
    if assoc is None:
        missing(target, this_run, f"no mlxtend comparison at {_at(size)}")
    elif "ratio" not in assoc:
        add(target, this_run, "-", "**missed** (mlxtend did not finish)")
    else:
        equal = assoc["comparison"]["equal"]
        with_encoding = ""
        if "ours_encode_seconds" in assoc:
            with_encoding = (
                f" ({fmt_x(assoc['ratio_with_encoding'])} with encoding on both sides)"
            )
        add(
            target,
            this_run,
            f"{fmt_x(assoc['ratio'])}{with_encoding}, metrics "
            f"{'equal' if equal else 'differ'}",
            _met(assoc["ratio"] >= ASSOCIATIONS_RATIO and equal),
        )

    # BG/NBD fit
    fit = report.get("bgnbd_fit", {})
    fit_sizes = fit.get("sizes", {})
    target = (
        f"BG/NBD fit against lifetimes (bench/bgnbd_fit.py): >= {BGNBD_RATIO}x "
        f"less CPU, parameters within {PARAMETER_RTOL:.0%}"
    )
    if not fit_sizes:
        missing(target, this_run, fit.get("error") or "bench/bgnbd_fit.py not run")
    else:
        largest = max(fit_sizes, key=int)
        figures = fit_sizes[largest]
        add(
            target,
            this_run,
            f"{fmt_x(figures['cpu_ratio'])} less CPU ({fmt_x(figures['wall_ratio'])}"
            f" wall) at {int(largest):,} simulated customers, parameters within "
            f"{figures['max_rel_param_diff']:.1e}",
            _met(
                figures["cpu_ratio"] >= BGNBD_RATIO
                and figures["max_rel_param_diff"] <= PARAMETER_RTOL
            ),
        )
    return rows


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
        f", with {m['git_uncommitted_files']} uncommitted files outside bench/ "
        "(the figures are of those files, not of the commit alone)"
        if m["git_uncommitted_files"]
        else ""
    )
    commit = m.get("git_commit_full") or m["git_commit"]
    json_link = (
        f"`{report['json']}`"
        if Path(report["json"]).is_absolute()
        else f"[{report['json']}](../{report['json']})"
    )
    out = [
        "# Benchmarks",
        "",
        f"**Measured at commit `{commit}`**{uncommitted}, by one run of "
        f"`python bench/run.py {' '.join(report['arguments'])}` "
        f"({report['started_at']} to {report.get('finished_at', '?')}; the "
        "harness: [bench/run.py](../bench/run.py)), which produced every "
        "figure on this page except the two sections filed by their own "
        "scripts, `make bench-daily` and `make bench-stress`: each says the "
        "commit it measured, and is flagged wherever its code differs from "
        f"this run's. The raw figures are in {json_link}. Rerun `make bench` "
        "to replace this page.",
        "",
        "What limits the speed, as profiled, and what has been changed: "
        "[performance.md](performance.md).",
        "",
        f"Machine: {m['cores']} cores ({m['cpu_model']}), {m['ram_gb']} GB RAM, "
        f"{m['os']}; Python {m['python']}, {packages}. Reference virtualenv "
        f"(`bench/.venv-ref`): {reference or 'not used'}. GB on this page are "
        "2^30 bytes.",
        "",
        f"**Shared machine.** {report['shared_note']} Ratios compare runs made "
        "minutes apart on the same data, so they are the figures to read; "
        "absolute times are orientation only.",
        "",
        "## Targets",
        "",
        "| target | figure | verdict | measured by |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {t['target']} | {t['figure']} | {t['verdict']} | {t['source']} |"
        for t in target_rows(report)
    ]
    full_build_at = len(out)
    out += [
        "",
        "## Full build",
        "",
        head,
        rule,
        row("project measured", str, pick("project")),
        row("dbt command", lambda size: f"`{size['build']['dbt_command']}`"),
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
    out.append("")
    if keys:
        last = keys[-1]
        slowest = ", ".join(
            f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
            for n in sizes[last]["slowest_nodes"][:6]
        )
        out += [f"Slowest nodes at {int(last):,} customers: {slowest}.", ""]
    else:
        out[full_build_at:] = ["", "## Full build", "", "Not measured in this run.", ""]
    out += render_transactions(report.get("transactions", {}))
    out += render_demo(report.get("demo"))
    out += render_daily(report)
    out += render_stress(report)
    comparisons_at = len(out)
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
            f"**time ratio pandas / SQL** (target >= {PANDAS_TIME_RATIO})",
            fmt_x,
            pick("pandas_vs_sql", "time_ratio"),
        ),
        row("wall ratio pandas / SQL", fmt_x, pick("pandas_vs_sql", "wall_ratio")),
        row(
            f"**memory ratio pandas / SQL** (target >= {PANDAS_MEMORY_RATIO})",
            fmt_x,
            pick("pandas_vs_sql", "memory_ratio"),
        ),
        row("customers in RFM: pandas / mart", rfm_customers),
        "",
        "## The floor: RFM by hand",
        "",
        "One hand-written DuckDB query (`FLOOR_SQL` in `bench/run.py`) builds "
        "the RFM mart from `marts.fct_orders` and `int_as_of_date` of the "
        "built file, with the profile's settings (2 threads, memory_limit "
        f"{report['settings'].get('duckdb_memory_limit', DEFAULT_MEMORY_LIMIT)}),"
        " best of three; it is checked to give the same rows as "
        "`dim_customer_rfm`. The model's time is its `execution_time` in a "
        "`dbt run --threads 1` of it alone. (Not a target of issue 20; the "
        "transactions-only floor above is.)",
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
        row("**model / floor**", fmt_x, pick("floor", "ratio")),
        row("floor equals the mart", floor_equal),
    ]
    if not keys:
        del out[comparisons_at:]
    out += render_bgnbd_fit(report.get("bgnbd_fit"))
    if any("bgnbd" in sizes[k] for k in keys):
        out += [
            "",
            "### BG/NBD on the generated data, after each full build",
            "",
            "Not the target's figure (that is bench/bgnbd_fit.py's, above): "
            "wall time of one fit each, ours in the harness's process with "
            "the BLAS threads it has, lifetimes in its own. "
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
            row("fit ratio lifetimes / ours (wall)", fmt_x, pick("bgnbd", "fit_ratio")),
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
        alone_flags = alone_run_flags(sizes, keys)
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
            f"{alone_flags}`), which counts the rules from "
            "`int_order_baskets`, the baskets as sorted lists of integer "
            "item keys: that model is our encoding, shown apart as "
            "mlxtend's is, and both ratios are given, without and with "
            "encoding. Equal metrics: the same rules, with support, "
            f"confidence and lift within {METRIC_ATOL:g}."
            + (
                ""
                if "--full-refresh" in alone_flags
                else " This run had no `--full-refresh`: the SQL-marts step "
                "before it had rebuilt the baskets' input, so "
                "`int_order_baskets` rebuilt every customer's baskets by its "
                "incremental path (delete, change rule, append), which is "
                "slower than one encoding; its time and the ratio with "
                "encoding are not an encoding's."
            ),
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
            row(
                "ours: int_order_baskets (encoding)",
                fmt_s,
                pick("associations", "ours_encode_seconds"),
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
                f"**ratio mlxtend / ours** (target >= {ASSOCIATIONS_RATIO})",
                fmt_x,
                pick("associations", "ratio"),
            ),
            row(
                "ratio with encoding on both sides",
                fmt_x,
                pick("associations", "ratio_with_encoding"),
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
        "`CRM_RAW_DIR`, `CRM_DUCKDB_PATH` and its own target and log folders, "
        "and builds as `python -m crm_analytics.publish` (`make build`) "
        "does: `dbt build --exclude-resource-type unit_test` (dbt's unit "
        "tests check the SQL on fixed rows; `make test` runs them). "
        "`CRM_DUCKDB_MEMORY_LIMIT` is left as found: unset, DuckDB gets the "
        f"profile's {DEFAULT_MEMORY_LIMIT}, and a target stated for the "
        "default profile is not judged on a run with another limit.",
        "- Peak memory: the harness polls the resident set size of the "
        "command's whole process tree from `/proc` every 0.2 s and keeps the "
        "largest sum; the kernel's `ru_maxrss` of the largest single process "
        "is shown too (Python models run inside the dbt process).",
        "- Stage times come from dbt's `run_results.json` (`execution_time` "
        "per node, grouped by folder, each Python model on its own), except "
        "the raw load: the project's dbt-duckdb plugin loads the raw files "
        "when dbt opens the build file, before any node, and prints one line "
        "per table and `raw files loaded in N s`; the load's seconds are that "
        "line's, its peak RSS the largest seen until the line appeared. The "
        "on-run-start hook only checks the settings and reports load problems.",
        "- dbt runs in a copy of the project (models, macros, seeds, tests, "
        "`src/`) taken when the run starts, in `bench/.work/project/`, so "
        "edits made to the tree during a run do not leak into it.",
        "- Each command's output is in `bench/.work/size-N/*.log`; the build "
        "files stay in `bench/.work/size-N/build.duckdb` for profiling. "
        "`python bench/profile_model.py <python model> --database ... "
        "--manifest ...` runs one Python model on such a file without dbt "
        "(and without the raw load), e.g. under "
        "`bench/.venv-ref/bin/py-spy record`.",
    ]
    return "\n".join(out) + "\n"


def _table(keys: list, label, data: dict, rows: list[tuple[str, object]]) -> list[str]:
    """A markdown table with one column per key of ``data``: each row a
    label and a function of one column's figures (a missing figure shows
    as -)."""
    out = [
        "| | " + " | ".join(label(k) for k in keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for name, show in rows:
        cells = []
        for k in keys:
            try:
                cells.append(show(data[k]))
            except (KeyError, TypeError, ZeroDivisionError, ValueError):
                cells.append("-")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def _load_seconds(section: dict) -> str:
    load = section["load"]
    return fmt_s(load["seconds"]) if load else "- (no load line)"


def tx_floor_equal(t: dict) -> str:
    floor = t["floor"]
    if floor["equal_to_marts"]:
        return "yes"
    return f"no ({floor['rows_different'] + floor['rows_unmatched']} rows differ)"


def render_transactions(tx: dict) -> list[str]:
    """The transactions-only build against the floor plus the ML."""
    out = [
        "## Transactions-only input",
        "",
        "The smallest input the warehouse takes: `python -m "
        "crm_analytics.generate --transactions-only` writes one file, "
        "`transactions.csv` (customer, time, amount, order id; completed "
        "orders, no defects), and the full build runs on it. Against it: "
        "the floor, one DuckDB statement (`TX_FLOOR_SQL` in `bench/run.py`) "
        "computing the RFM and value marts (`dim_customer_rfm`, "
        "`dim_customer_value`) straight from the CSV, in memory with the "
        "profile's settings, best of three, checked to give the marts' "
        "figures for every customer; plus the ML, the summed `execution_time` "
        "of the build's Python models. Target: the build within "
        f"{TRANSACTIONS_FACTOR}x of floor + ML at "
        f"{TRANSACTIONS_CUSTOMERS:,} customers.",
        "",
    ]
    if not tx:
        return out + ["Not measured in this run.", ""]
    keys = list(tx)
    out += _table(
        keys,
        lambda k: f"{int(k):,} customers",
        tx,
        [
            ("transactions (raw rows)", lambda t: count(t["transactions"])),
            ("customers (floor)", lambda t: count(t["floor"]["customers"])),
            ("data generation (not part of the build)", generation),
            ("**`dbt build` wall time**", lambda t: fmt_s(t["build"]["wall_seconds"])),
            ("peak RSS, process tree", lambda t: fmt_gb(t["build"]["peak_rss_gb"])),
            ("raw load (the plugin's log line)", _load_seconds),
            (
                "the ML: Python models, summed",
                lambda t: (
                    f"{fmt_s(t['ml_seconds'])} ({len(t['python_models'])} models)"
                ),
            ),
            (
                "the floor: one statement from the CSV",
                lambda t: fmt_s(t["floor"]["seconds_best"]),
            ),
            ("floor equals the marts", tx_floor_equal),
            ("floor + ML", lambda t: fmt_s(t["floor_plus_ml_seconds"])),
            (
                f"**build / (floor + ML)** (target <= {TRANSACTIONS_FACTOR})",
                lambda t: fmt_x(t["ratio"]),
            ),
            ("nodes passed / not passed", passed_nodes),
            ("CPU used by the build / by other processes", cpu_split),
        ],
    )
    last = tx[keys[-1]]
    models = ", ".join(
        f"`{name}` {fmt_s(seconds)}"
        for name, seconds in sorted(last["python_models"].items(), key=lambda x: -x[1])
    )
    slowest = ", ".join(
        f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
        for n in last["slowest_nodes"][:6]
    )
    out += [
        "",
        f"At {int(keys[-1]):,}: Python models {models}. Slowest nodes: {slowest}.",
        "",
    ]
    return out


def render_demo(demo: dict | None) -> list[str]:
    """The build step of ``make demo``, timed."""
    out = [
        "## The demo build",
        "",
        "The build step of `make demo`: `python -m crm_analytics.publish` "
        "(`dbt build --exclude-resource-type unit_test`, `dbt docs generate`, "
        "then the copy of the marts to the serving file) on the already "
        "generated demo data (`python -m crm_analytics.generate --customers "
        f"{DEMO_CUSTOMERS} --seed 42`, as `make data`), into a new build file "
        "and a new target folder as on a first `make demo` (so dbt parses "
        "the project in full). The steps are timed by when the publish "
        "prints their lines (to 0.2 s). Target: "
        f"<= {DEMO_SECONDS} s at {DEMO_CUSTOMERS:,} customers.",
        "",
    ]
    if not demo:
        return out + ["Not measured in this run.", ""]
    steps = demo["steps"]
    publish = demo["publish"]
    table = [
        ("customers", count(demo["customers"])),
        (
            "**`python -m crm_analytics.publish` wall time**",
            fmt_s(publish["wall_seconds"]),
        ),
        ("start-up (Python, settings check)", fmt_s(steps.get("start-up"))),
        ("`dbt build`", fmt_s(steps.get("dbt build"))),
        ("`dbt docs generate`", fmt_s(steps.get("dbt docs generate"))),
        ("copy of the marts to the serving file", fmt_s(steps.get("publish"))),
        ("raw load within the build (the plugin's log line)", _load_seconds(demo)),
        ("peak RSS, process tree", fmt_gb(publish["peak_rss_gb"])),
        ("dbt's summary", f"`{demo.get('dbt_done') or '-'}`"),
        (
            "CPU used / by other processes",
            f"{publish['cpu_seconds']:,.0f} s / {publish['other_cpu_seconds']:,.0f} s",
        ),
    ]
    return out + ["| | |", "|---|---:|", *(f"| {k} | {v} |" for k, v in table), ""]


def render_bgnbd_fit(fit: dict | None) -> list[str]:
    """bench/bgnbd_fit.py's figures: the BG/NBD target's."""
    out = [
        "",
        "## BG/NBD: ours against lifetimes",
        "",
        "The target's figure comes from [bench/bgnbd_fit.py](../bench/bgnbd_fit.py),"
        " run by this harness: customers drawn from a BG/NBD with planted "
        "parameters (close to what the generated data fits), then each "
        "library fits the same (frequency, recency, T) in its own process "
        "(lifetimes from `bench/.venv-ref`) under one BLAS thread, best of "
        "its repeats; CPU seconds are compared (wall shown too). Same "
        f"parameters: every parameter within {PARAMETER_RTOL:.0%} of "
        "lifetimes'.",
        "",
    ]
    if not fit or not fit.get("sizes"):
        error = (fit or {}).get("error")
        return out + [f"Not measured in this run{f': {error}' if error else ''}.", ""]
    sizes = fit["sizes"]
    keys = list(sizes)
    planted = fit["planted"]

    def params(figures: dict, source: str) -> str:
        values = figures[source]["params"]
        return ", ".join(f"{values[p]:.4g}" for p in ("r", "alpha", "a", "b"))

    out += _table(
        keys,
        lambda k: f"{int(k):,} customers",
        sizes,
        [
            ("distinct (x, t_x, T)", lambda f: count(f["distinct"])),
            (
                "ours: wall / CPU",
                lambda f: f"{fmt_s(f['ours']['wall'])} / {fmt_s(f['ours']['cpu'])}",
            ),
            (
                "lifetimes: wall / CPU",
                lambda f: (
                    f"{fmt_s(f['lifetimes']['wall'])} / {fmt_s(f['lifetimes']['cpu'])}"
                ),
            ),
            (
                f"**CPU ratio lifetimes / ours** (target >= {BGNBD_RATIO})",
                lambda f: fmt_x(f["cpu_ratio"]),
            ),
            ("wall ratio lifetimes / ours", lambda f: fmt_x(f["wall_ratio"])),
            (
                "largest relative parameter difference",
                lambda f: f"{f['max_rel_param_diff']:.1e}",
            ),
            ("ours: r, alpha, a, b", lambda f: params(f, "ours")),
            ("lifetimes: r, alpha, a, b", lambda f: params(f, "lifetimes")),
        ],
    )
    out += [
        "",
        "Planted: "
        + ", ".join(f"{k} {v}" for k, v in planted.items())
        + f"; best of {fit['repeat']} fits each, seed {fit['seed']}.",
    ]
    return out


def render_daily(report: dict) -> list[str]:
    """The section of ``bench/daily.py``'s runs: a base build, then one
    daily batch, built by ``dbt build`` and, on a copy of the base file,
    by the publish."""
    daily = report.get("daily", {})
    out = [
        "## One-day incremental run",
        "",
        "Produced by `python bench/daily.py --customers N` (`make "
        "bench-daily`), which files its figures here: a full build of the "
        "base data, then one daily batch (orders with late and updated "
        "ones, order lines, web and email events) added to the raw folder "
        "and built into the base file twice, each time on its own copy: "
        "`dbt build` alone, and end to end with `python -m "
        "crm_analytics.publish` (dbt build, docs, copy to the serving file), "
        "each with a copy of the base build's dbt target folder, so that dbt "
        "parses partially as a daily `make build` in the same checkout does. "
        "Only the batch's files are read (the raw load's manifest); the four "
        "cleaning models of the batched tables run incrementally, the ML "
        "models keep their fits (the refit schedule, docs/ml_models.md), "
        "everything else downstream runs in full. Targets at "
        f"{TARGET_CUSTOMERS:,} customers: "
        f"`dbt build` <= {DAILY_BUILD_SECONDS} s, end to end <= "
        f"{DAILY_END_TO_END_SECONDS} s.",
        "",
    ]
    if not daily:
        return out + [
            "Not measured at this page's code yet: run `make bench-daily`.",
            "",
        ]
    keys = list(daily)

    def incremental(step: str):
        return lambda d: fmt_s(sum(d[step]["incremental_models_seconds"].values()))

    def files_read(d: dict) -> str:
        read = d["daily"]["load"]["files_read"]
        return "<br>".join(f"{t}: {f}" for t, f in read.items()) or "none"

    def reloaded(d: dict) -> str:
        again = d["daily"]["load"]["reloaded"]
        return "<br>".join(f"{t}: {why}" for t, why in again.items()) or "none"

    def steps(d: dict) -> str:
        s = d["end_to_end"]["steps"]
        return " / ".join(
            fmt_s(s.get(k)) for k in ("dbt build", "dbt docs generate", "publish")
        )

    out += _table(
        keys,
        lambda k: f"{int(k):,} customers",
        daily,
        [
            ("measured by", lambda d: section_source(report, "bench/daily.py", d)),
            ("DuckDB memory_limit", lambda d: d["duckdb_memory_limit"]),
            (
                "batch: files / rows",
                lambda d: f"{d['batch_files']} / {count(d['batch_rows'])}",
            ),
            ("base build wall time", lambda d: fmt_s(d["base"]["wall_seconds"])),
            (
                "**one-day `dbt build` wall time** (target <= "
                f"{DAILY_BUILD_SECONDS} s)",
                lambda d: fmt_s(d["daily"]["wall_seconds"]),
            ),
            (
                "**one-day run end to end with publish** (target <= "
                f"{DAILY_END_TO_END_SECONDS} s)",
                lambda d: fmt_s(d["end_to_end"]["wall_seconds"]),
            ),
            ("end to end: dbt build / docs / copy", steps),
            (
                "peak RSS: base / one-day dbt build / end to end",
                lambda d: " / ".join(
                    fmt_gb(d[step]["peak_rss_gb"])
                    for step in ("base", "daily", "end_to_end")
                ),
            ),
            (
                "one-day run: raw load (the plugin's log line)",
                lambda d: _load_seconds(d["daily"]),
            ),
            ("one-day run: files read", files_read),
            (
                "dbt parsed the project: one-day dbt build / end to end",
                lambda d: " / ".join(
                    "in full" if d[step]["full_parse"] else "partially"
                    for step in ("daily", "end_to_end")
                ),
            ),
            ("one-day run: tables reloaded in full", reloaded),
            ("base build: raw load", lambda d: _load_seconds(d["base"])),
            ("one-day run: the four incremental cleaning models", incremental("daily")),
            ("base build: the same four models", incremental("base")),
            (
                "the scheduled fit models: base build / one-day run (fits kept)",
                lambda d: (
                    " / ".join(
                        fmt_s(sum(d[step]["scheduled_fits_seconds"].values()))
                        if "scheduled_fits_seconds" in d[step]
                        else "-"
                        for step in ("base", "daily")
                    )
                    + f" ({len(d['daily'].get('fits_kept', []))} of "
                    f"{len(d['base'].get('scheduled_fits_seconds', {}))} kept)"
                ),
            ),
            (
                "CPU of other processes during the one-day dbt build",
                lambda d: fmt_s(d["daily"]["other_cpu_seconds"]),
            ),
        ],
    )
    out.append("")
    last = keys[-1]
    slowest = ", ".join(
        f"`{n['node'].split('.')[-1]}` {fmt_s(n['seconds'])}"
        for n in daily[last]["daily"].get("slowest_nodes", [])[:6]
    )
    if slowest:
        out += [f"Slowest nodes of the one-day run at {int(last):,}: {slowest}.", ""]
    return out


def render_stress(report: dict) -> list[str]:
    """The section of ``bench/stress.py``'s run: 100M order lines."""
    stress = report.get("stress")
    target = (stress or {}).get("order_lines_target", STRESS_LINES)
    customers = (stress or {}).get("customers", 1_000_000)
    out = [
        "## Stress run: "
        + (f"{target / 1e6:,.0f}M" if target >= 1e6 else f"{target:,}")
        + " order lines",
        "",
        "Produced by `python bench/stress.py` (`make bench-stress`), which "
        f"files its figures here: the {customers:,}-customer data "
        "set with its orders and order lines written again under new order "
        f"ids until the lines reach {target:,} (the same customers, several "
        "times the purchases), built once in full with the default settings "
        "(two dbt threads, the profile's memory_limit) as `make build` "
        "builds. DuckDB spills past its "
        "`memory_limit` to `temp_directory`; the propensity models fit on a "
        "sample and the recommendations read one row per customer x product "
        f"and score in batches. Target: <= {STRESS_SECONDS:,} s and <= "
        f"{STRESS_GB} GB at {STRESS_LINES:,} lines.",
        "",
    ]
    if not stress:
        return out + [
            "Not measured at this page's code yet: run `make bench-stress`.",
            "",
        ]
    build = stress["build"]
    rows = stress["raw_rows"]
    not_passed = stress.get("not_passed", [])
    skipped = sum(n["status"] == "skipped" for n in not_passed)
    failed = [n for n in not_passed if n["status"] != "skipped"]
    outcome = (
        "passed"
        if build["returncode"] == 0
        else f"**failed** (rc {build['returncode']}): "
        + (
            ", ".join(
                f"`{node_label(n['node'])}` {n['status']}"
                + (f" ({why})" if (why := failure_reason(n.get("message"))) else "")
                for n in failed
            )
            + (f"; {skipped} nodes skipped after them" if skipped else "")
            or f"dbt stopped before any node, see `{build.get('log', 'its log')}`"
        )
    )
    lines = f"{count(rows['order_lines'])} / {count(rows['orders'])}"
    load = stress.get("load")
    table = [
        ("measured by", section_source(report, "bench/stress.py", stress)),
        ("dbt command", f"`{stress.get('dbt_command', 'dbt build')}`"),
        ("DuckDB memory_limit", stress["duckdb_memory_limit"]),
        ("dbt threads (models at once)", str(stress.get("dbt_threads", 2))),
        ("raw order lines / orders", lines),
        ("raw files", fmt_gb(stress["raw_gb"])),
        ("making the stress data (not the build)", fmt_s(stress["data_seconds"])),
        ("**`dbt build`**", outcome),
        (
            f"**wall time** (target <= {STRESS_SECONDS:,} s)",
            fmt_s(build["wall_seconds"]),
        ),
        (
            f"**peak RSS, process tree** (target <= {STRESS_GB} GB)",
            fmt_gb(build["peak_rss_gb"]),
        ),
        (
            "raw load (the plugin's log line)",
            fmt_s(load["seconds"]) if load else "-",
        ),
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
    builds = [s["build"] for s in report["sizes"].values()]
    builds += [t["build"] for t in report.get("transactions", {}).values()]
    if report.get("demo"):
        builds.append(report["demo"]["publish"])
    other = sum(b["other_cpu_seconds"] for b in builds)
    own = sum(b["cpu_seconds"] for b in builds)
    cores = report["machine"]["cores"]
    busy = "shared" if other > 0.1 * own else "mostly ours"
    return (
        f"The {cores} cores were {busy} during these runs: while the builds "
        f"ran, other processes on the machine used {other:,.0f} CPU-seconds "
        f"against the builds' own {own:,.0f} (per command in the JSON, "
        "`other_cpu_seconds`); load average "
        f"{report['machine']['load_average_at_start']} at the start."
    )


def write_report(report: dict, json_path: Path, out: Path) -> None:
    """Judge the targets, then write the JSON and the page."""
    report["targets"] = target_rows(report)
    report["shared_note"] = shared_note(report)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report))
    log(f"wrote {rel(out)} and {rel(json_path)}")


def same_code_sections(previous: dict, snapshot: str | None) -> dict:
    """bench/daily.py's and bench/stress.py's sections of an earlier JSON
    that measured the same project files (``snapshot``) as this run: those
    stay on the new page; any other is dropped, so that one page never
    mixes figures of different code."""
    kept: dict = {}
    if snapshot is None:
        return kept
    daily = {
        k: v
        for k, v in previous.get("daily", {}).items()
        if v.get("project_snapshot") == snapshot
    }
    if daily:
        kept["daily"] = daily
    if previous.get("stress", {}).get("project_snapshot") == snapshot:
        kept["stress"] = previous["stress"]
    return kept


def _sizes(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def main() -> int:
    global PROJECT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--target-size",
        type=int,
        default=TARGET_CUSTOMERS,
        help="the size at which the full build, pandas, mlxtend and daily "
        "targets are judged (the targets name 1M; smaller to try the harness)",
    )
    parser.add_argument(
        "--transactions-sizes",
        default=str(TRANSACTIONS_CUSTOMERS),
        help="customers of the transactions-only builds ('' to skip)",
    )
    parser.add_argument(
        "--demo-customers",
        type=int,
        default=DEMO_CUSTOMERS,
        help="customers of the demo build (0 to skip)",
    )
    parser.add_argument(
        "--bgnbd-sizes",
        default="100000,1000000",
        help="simulated customers of bench/bgnbd_fit.py ('' to skip)",
    )
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
        "--no-snapshot",
        action="store_true",
        help="run dbt in the working tree instead of a copy taken at the start",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="measure the full builds only (no pandas, floor, lifetimes or "
        "mlxtend comparison)",
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
    sizes = _sizes(args.sizes)
    tx_sizes = _sizes(args.transactions_sizes)
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
        "json": rel(json_path),
        "started_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "machine": {**machine_facts(), "project_snapshot": snapshot},
        "settings": {
            "seed": args.seed,
            "target_customers": args.target_size,
            "duckdb_memory_limit": str(environment_value("CRM_DUCKDB_MEMORY_LIMIT")),
            "build_command": " ".join(["dbt", *map(str, build_command()[1:])]),
            "min_support": args.min_support,
            "min_confidence": args.min_confidence,
            "apriori_cap_gb": args.apriori_cap_gb,
        },
        "sizes": {},
    }
    project = project_version(report["machine"])
    if json_path.exists():
        kept = same_code_sections(json.loads(json_path.read_text()), snapshot)
        report.update(kept)
        log(
            "kept from the earlier JSON (same project files): "
            + (", ".join(kept) or "nothing")
        )
    log(f"machine: {report['machine']['cores']} cores, "
        f"{report['machine']['ram_gb']} GB; sizes {sizes}, transactions-only "
        f"{tx_sizes}, demo {args.demo_customers}")  # fmt: skip
    limit = report["settings"]["duckdb_memory_limit"]
    if limit != DEFAULT_MEMORY_LIMIT:
        log(f"CRM_DUCKDB_MEMORY_LIMIT={limit}: the targets stated for the "
            "default profile will not be judged")  # fmt: skip
    ref_python = None
    if not args.skip_reference:
        ref_python = reference_python(args.work)
        report["reference_versions"] = reference_versions(ref_python)
    hash_key = secrets.token_hex(32)

    def file(name: str) -> None:
        report["finished_at"] = f"{dt.datetime.now():%Y-%m-%d %H:%M}"
        write_report(report, json_path, out)
        log(f"done: {name}")

    try:
        if args.demo_customers:
            log(f"=== the demo build, {args.demo_customers:,} customers")
            report["demo"] = {
                **bench_demo(args.demo_customers, args, hash_key),
                "project": project,
            }
            file("the demo build")
        if ref_python and args.bgnbd_sizes.strip():
            log("=== BG/NBD fit alone")
            report["bgnbd_fit"] = {**run_bgnbd_fit(args), "project": project}
            file("BG/NBD fit")
        for customers in tx_sizes:
            log(f"=== transactions only, {customers:,} customers")
            result = bench_transactions(customers, args, hash_key)
            result["project"] = project
            report.setdefault("transactions", {})[str(customers)] = result
            file(f"transactions only at {customers:,}")
        for customers in sizes:
            log(f"=== {customers:,} customers")
            result = bench_size(customers, args, hash_key, ref_python)
            result["project_snapshot"] = snapshot
            result["project"] = project
            report["sizes"][str(customers)] = result
            file(f"{customers:,} customers")
    except BuildFailed as error:
        log(f"stopping: {error}")
        return 1
    for target in report["targets"]:
        log(f"  {target['verdict']}: {target['target']}: {target['figure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
