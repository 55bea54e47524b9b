"""Blue/green publishing: build into a build file, serve a copy of the marts.

``dbt build`` writes ``warehouse/build.duckdb`` (the build file,
``CRM_DUCKDB_PATH``). Only when
the whole build, models and tests, succeeds are the BI-facing tables (schema
``marts``) copied into a fresh file written with DuckDB's storage version
1.4 (the long-term-support release that BI drivers bundle) and moved over
``warehouse/crm.duckdb`` (the serving file, ``CRM_SERVING_PATH``) with one
atomic rename.

A reader that has the serving file open keeps reading the version it opened
(the old file lives on until its last handle closes); new connections see
the new version; a build never waits for a reader, because it never writes
the serving file in place; and a failing build leaves the serving file as
it was.

Run ``python -m crm_analytics.publish`` (``make demo`` and ``make build`` do).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.pii import HashKeyError, find_pii, hash_key
from crm_analytics.settings import ENV_SETTINGS, check_run, dbt_environment

SERVING_STORAGE_VERSION = "v1.4.0"
"""Files written for this version open in DuckDB 1.4 and newer clients."""

PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts",)

DEFAULT_BUILD = PROJECT_DIR / str(ENV_SETTINGS["CRM_DUCKDB_PATH"].default)
DEFAULT_SERVING = PROJECT_DIR / str(ENV_SETTINGS["CRM_SERVING_PATH"].default)


class PublishError(RuntimeError):
    """The build failed or produced nothing to publish: nothing was published."""


@dataclass(frozen=True)
class Published:
    """What a publish wrote."""

    path: Path
    tables: int
    rows: int
    seconds: float


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def published_tables(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of the build's base tables to publish, in a fixed order."""
    schemas = ", ".join(_literal(s) for s in PUBLISHED_SCHEMAS)
    return connection.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where database_name = 'build' and schema_name in ({schemas}) "
        "order by 1, 2"
    ).fetchall()


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_copies(serving_path: Path) -> list[Path]:
    """Delete the half-written copies (``.<name>.<pid>.tmp`` and its WAL)
    that a killed publish left beside ``serving_path``; copies of a publish
    still running are left alone. Returns what was deleted."""
    removed = []
    for path in serving_path.parent.glob(f".{serving_path.name}.*.tmp*"):
        pid = path.name[len(serving_path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _is_running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def refuse_personal_data(connection: duckdb.DuckDBPyConnection) -> None:
    """Raise PublishError naming each table.column of the attached build's
    published schemas whose text looks like an email or a phone number,
    with how many values: free text is masked in the models (mask_pii), so
    a match is personal data a model let through."""
    findings = find_pii(connection, "build", PUBLISHED_SCHEMAS)
    if findings:
        lines = "\n".join(f"  {finding}" for finding in findings)
        raise PublishError(
            "text that looks like personal data would be published (mask it "
            f"with the macro mask_pii in the model that carries it):\n{lines}"
        )


def publish(build_path: Path, serving_path: Path) -> Published:
    """Copy the published schemas of ``build_path`` into a new file and move
    it over ``serving_path`` atomically. Raises PublishError when the build
    file is missing, has no mart tables or holds text that looks like
    personal data (refuse_personal_data); the serving file is untouched."""
    started = time.perf_counter()
    build_path, serving_path = Path(build_path), Path(serving_path)
    if not build_path.exists():
        raise PublishError(f"no build file at {build_path}: run dbt build first")
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_copies(serving_path)
    staging = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    old_wal = staging.with_name(f"{staging.name}.old.wal")
    rows = 0
    try:
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")  # as the build's profile
            connection.execute(
                f"attach {_literal(str(build_path))} as build (read_only)"
            )
            tables = published_tables(connection)
            if not tables:
                raise PublishError(f"{build_path} holds no tables in schema marts")
            refuse_personal_data(connection)
            connection.execute(
                f"attach {_literal(str(staging))} as serving "
                f"(storage_version {_literal(SERVING_STORAGE_VERSION)})"
            )
            for schema in sorted({schema for schema, _ in tables}):
                connection.execute(f"create schema serving.{_quote(schema)}")
            for schema, table in tables:
                name = f"{_quote(schema)}.{_quote(table)}"
                connection.execute(
                    f"create table serving.{name} as select * from build.{name}"
                )
                rows += connection.execute(
                    f"select count(*) from serving.{name}"
                ).fetchone()[0]
            connection.execute("checkpoint serving")
            connection.execute("detach serving")
            connection.execute("detach build")
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        # A WAL beside the serving file (a read-write client that died
        # without a checkpoint) belongs to the old file: DuckDB would replay
        # it into the new one and every reader would fail ("WAL does not
        # match database file"). Move it away first, so no reader of the new
        # file ever sees it, and delete it with the old file.
        stale_wal = Path(f"{serving_path}.wal")
        if stale_wal.exists():
            os.replace(stale_wal, old_wal)
        os.replace(staging, serving_path)
        directory = os.open(serving_path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        staging.unlink(missing_ok=True)
        Path(f"{staging}.wal").unlink(missing_ok=True)
        old_wal.unlink(missing_ok=True)
    return Published(serving_path, len(tables), rows, time.perf_counter() - started)


def failed_nodes(
    target_path: Path,
    since: float | None = None,
    build_path: Path | None = None,
    max_rows: int = 3,
) -> list[str]:
    """Human-readable lines for the failed or erroring nodes of the last dbt
    invocation (from run_results.json), with where to look. With ``since``
    (a time.time()), a run_results.json written before it is an earlier
    run's and gives nothing: dbt writes none when it stops before running
    any node (an on-run-start hook failing on bad input, say). With
    ``build_path``, a failed test's first ``max_rows`` stored failing rows
    follow its line (a test that says why, such as the quarantine-share
    check, is then readable in the build log)."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return []
    if since is not None and results_file.stat().st_mtime < since:
        return []
    results = json.loads(results_file.read_text())["results"]
    lines = []
    for result in results:
        if result["status"] not in ("fail", "error"):
            continue
        node = result["unique_id"]
        where = ""
        if node.startswith("test."):
            where = " (failing rows: schema test_failures of the build file)"
        # An erroring model's second line is the database's reason (a
        # mart's check constraint, say: DuckDB names the expression).
        keep = 2 if result["status"] == "error" else 1
        message_lines = (result.get("message") or "").splitlines()
        message = [line.strip() for line in message_lines[:keep]]
        lines.append(f"{result['status']}: {node}{where} {' '.join(message)}".strip())
        if result["status"] == "fail" and build_path is not None:
            lines.extend(
                _failing_rows(build_path, result.get("relation_name"), max_rows)
            )
    return lines


def _failing_rows(build_path: Path, relation: str | None, max_rows: int) -> list[str]:
    """The first stored failing rows of a test, one line each, or nothing
    when they cannot be read."""
    if not relation or not build_path.exists():
        return []
    try:
        with duckdb.connect(str(build_path), read_only=True) as connection:
            connection.execute("set TimeZone = 'UTC'")  # as the build's profile
            cursor = connection.execute(f"select * from {relation} limit {max_rows}")
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
    except duckdb.Error:
        return []
    return [
        "    "
        + ", ".join(f"{name}={value}" for name, value in zip(names, row, strict=True))
        for row in rows
    ]


UNIT_TESTS = "--with-unit-tests"
"""The publish's flag that keeps dbt's unit tests in the build."""


def build_arguments(dbt_args: list[str]) -> list[str]:
    """The arguments of the publish's ``dbt build``: the user's, and unless
    they say otherwise (``--with-unit-tests``, or their own
    ``--resource-type`` / ``--exclude-resource-type``), without dbt's unit
    tests. Unit tests check the project's SQL on fixed rows, not the data:
    ``make test`` runs them (tests/python/test_unit_tests.py), and dbt
    advises leaving them out of production builds."""
    if UNIT_TESTS in dbt_args:
        return [arg for arg in dbt_args if arg != UNIT_TESTS]
    if any(
        arg.startswith(("--resource-type", "--exclude-resource-type"))
        for arg in dbt_args
    ):
        return list(dbt_args)
    return [*dbt_args, "--exclude-resource-type", "unit_test"]


def build_and_publish(
    build_path: Path = DEFAULT_BUILD,
    serving_path: Path = DEFAULT_SERVING,
    dbt_args: list[str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> Published:
    """Run ``dbt build`` into ``build_path``, then ``dbt docs generate
    --no-compile`` (target/index.html and catalog.json, beside the manifest
    the build wrote with every node's compiled SQL), and publish on
    success."""
    try:
        hash_key()
    except HashKeyError as error:
        raise PublishError(f"{error}. {serving_path} was not changed.") from None
    dbt = Path(sys.executable).with_name("dbt")
    env = dbt_environment(build_path=build_path, project_dir=project_dir)
    # dbt reads DBT_TARGET_PATH too, relative to the project directory.
    target_path = project_dir / os.environ.get("DBT_TARGET_PATH", "target")
    print(f"dbt build -> {build_path}", flush=True)
    started = time.time()
    completed = subprocess.run(
        [str(dbt), "build", *build_arguments(dbt_args or [])],
        cwd=project_dir,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        failures = failed_nodes(target_path, since=started, build_path=build_path) or [
            "dbt stopped before building anything; the error above says why."
        ]
        detail = "\n".join(f"  {line}" for line in failures)
        raise PublishError(
            f"dbt build failed (exit {completed.returncode}); {serving_path} was "
            f"not changed.\n{detail}".rstrip()
        )
    print("dbt docs generate", flush=True)
    # The build compiled every node and wrote them to target/manifest.json;
    # compiling them again cost 7 of the demo's 12 s of docs.
    docs = subprocess.run(
        [str(dbt), "docs", "generate", "--no-compile"],
        cwd=project_dir,
        env=env,
        check=False,
    )
    if docs.returncode != 0:
        raise PublishError(
            f"dbt docs generate failed (exit {docs.returncode}); {serving_path} "
            "was not changed."
        )
    print(f"publishing {build_path} -> {serving_path}", flush=True)
    return publish(build_path, serving_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.publish",
        description="dbt build into the build file, then publish the marts "
        "to the serving file if every model and test passed.",
    )
    parser.add_argument("--build-path", type=Path, default=None)
    parser.add_argument("--serving-path", type=Path, default=None)
    parser.add_argument(
        "--publish-only",
        action="store_true",
        help="skip dbt build and publish the existing build file",
    )
    args, dbt_args = parser.parse_known_args(argv)
    build_path = args.build_path or Path(
        os.environ.get("CRM_DUCKDB_PATH", DEFAULT_BUILD)
    )
    serving_path = args.serving_path or Path(
        os.environ.get("CRM_SERVING_PATH", DEFAULT_SERVING)
    )
    problems = check_run(
        [] if args.publish_only else dbt_args, os.environ, build_path, serving_path
    )
    if problems:
        detail = "\n".join(f"  {line}" for line in problems)
        print(
            f"not published: bad settings; {serving_path} was not changed.\n{detail}",
            file=sys.stderr,
        )
        return 1
    try:
        if args.publish_only:
            result = publish(build_path, serving_path)
        else:
            result = build_and_publish(build_path, serving_path, dbt_args)
    except PublishError as error:
        print(f"not published: {error}", file=sys.stderr)
        return 1
    size_mb = result.path.stat().st_size / 1e6
    print(
        f"published {result.tables} tables ({result.rows:,} rows, {size_mb:.1f} MB) "
        f"to {result.path} in {result.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
