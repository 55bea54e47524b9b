"""Crash safety and repeatability of build + publish.

``python -m crm_analytics.publish`` is killed with SIGKILL while dbt builds
staging, while a Python model runs, and while the serving file is being
copied: each time the serving file is still the last good version (same
checksum, opens read-only), and the next build succeeds without clean-up.
The builds here switch the build file to another input and back, so the
incremental cleaning models must notice that rows they processed changed
and rebuild; the last build, on the first input again, gives marts identical
to the first build's, ML outputs included (test_incremental also compares an
incremental build with a full refresh)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from helpers import build_fixture, generate, table_digests

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import dbt_environment

pytestmark = pytest.mark.e2e


class Builder:
    """Runs build + publish for one work directory, as ``make build`` does."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.build_path = work_dir / "build.duckdb"
        self.serving_path = work_dir / "serving" / "crm.duckdb"

    def env(self, raw_dir: Path) -> dict[str, str]:
        return dbt_environment(
            raw_dir=raw_dir,
            build_path=self.build_path,
            serving_path=self.serving_path,
            temp_dir=self.work_dir / "duckdb_tmp",
            target="dev",
            profiles_dir=PROJECT_DIR / "profiles",
            target_path=self.work_dir / "target",
            log_path=self.work_dir / "logs",
            extra={"PYTHONUNBUFFERED": "1"},
        )

    def start(self, raw_dir: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "crm_analytics.publish"],
            cwd=PROJECT_DIR,
            env=self.env(raw_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def run(self, raw_dir: Path) -> str:
        process = self.start(raw_dir)
        output, _ = process.communicate(timeout=1200)
        assert process.returncode == 0, output[-5000:]
        return output

    def kill_when(self, raw_dir: Path, moment: Callable[[str], bool]) -> str:
        """Start a build and SIGKILL its whole process group as soon as
        ``moment`` is true of a line it printed; returns what it printed."""
        process = self.start(raw_dir)
        seen = []
        for line in process.stdout:
            seen.append(line)
            if moment(line):
                os.killpg(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
        process.stdout.close()
        assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
        return "".join(seen)

    def copies_in_progress(self) -> list[Path]:
        return list(self.serving_path.parent.glob(f".{self.serving_path.name}.*"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    """Two small inputs: the last good one and the next one."""
    root = tmp_path_factory.mktemp("crash_inputs")
    good = generate(root / "good", "--customers", "300", "--seed", "11")
    newer = generate(root / "newer", "--customers", "300", "--seed", "12")
    return good / "raw", newer / "raw"


@build_fixture(scope="module")
def last_good(inputs, tmp_path_factory) -> tuple[Builder, dict[str, str]]:
    builder = Builder(tmp_path_factory.mktemp("crash"))
    builder.run(inputs[0])
    return builder, table_digests(builder.serving_path)


def during_staging(line: str) -> bool:
    return " START " in line and ".stg_" in line


def during_a_python_model(line: str) -> bool:
    return " START python " in line


@pytest.mark.parametrize(
    "moment",
    [during_staging, during_a_python_model],
    ids=["during_staging", "during_a_python_model"],
)
def test_a_build_killed_leaves_the_last_good_version(last_good, inputs, moment) -> None:
    builder, digests = last_good
    output = builder.kill_when(inputs[1], moment)
    assert "publishing" not in output
    assert table_digests(builder.serving_path) == digests


def test_a_publish_killed_while_copying_leaves_the_last_good_version(
    last_good, inputs
) -> None:
    builder, digests = last_good
    process = builder.start(inputs[1])
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("publishing"):
            break
    assert seen and seen[-1].startswith("publishing"), "".join(seen)[-3000:]
    deadline = time.monotonic() + 30
    while not builder.copies_in_progress() and time.monotonic() < deadline:
        time.sleep(0.001)
    half_written = builder.copies_in_progress()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    assert half_written, "the publish finished before the copy could be seen"
    assert process.returncode == -signal.SIGKILL
    assert table_digests(builder.serving_path) == digests
    # The half-written copy is left behind; the next publish deletes it.
    assert builder.copies_in_progress()


def test_the_next_build_after_kills_succeeds_and_gives_identical_marts(
    last_good, inputs
) -> None:
    # The killed builds above left the build file half-way through other
    # input and a half-written copy. The next build, on the first input
    # again, needs no clean-up and hashes as the first build did: every mart,
    # ML outputs included (two builds on the same input are identical).
    builder, digests = last_good
    left_behind = builder.copies_in_progress()
    builder.run(inputs[0])
    assert left_behind and builder.copies_in_progress() == []
    assert table_digests(builder.serving_path) == digests
    with duckdb.connect(str(builder.serving_path), read_only=True) as connection:
        assert (
            connection.execute("select count(*) from marts.dim_customers").fetchone()[0]
            > 250
        )
