"""pytest hooks and the shared build fixtures. The helpers they use are in
helpers.py (generate, run_dbt, build, ...) and planted.py (the shared data
set of planted defects); tests import those modules, not this one."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

# Assertions in the helper modules explain themselves as a test's would.
pytest.register_assert_rewrite("helpers", "planted")

# Importing helpers sets CRM_PII_HASH_KEY and TZ for every build the tests
# start (see there): this import comes before any test or fixture runs.
from helpers import (  # noqa: E402
    BUILD_FIXTURES,
    Warehouse,
    build,
    build_fixture,
    generate,
    refuse_in_fast_tier,
    run_dbt,
    runs_dbt,
)
from planted import Planted, plant, planted_cases  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a build fixture (directly or through another
    fixture) is marked ``e2e``."""
    for item in items:
        if BUILD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def no_dbt_in_the_fast_tier():
    """In ``make test-fast`` a command line that starts dbt (dbt itself, or
    ``python -m crm_analytics.publish``) fails the test that ran it, however
    it got there: such a test must be marked ``e2e``."""
    if os.environ.get("CRM_TEST_TIER") != "fast":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        run = subprocess.run

        def run_unless_dbt(args, *rest, **kwargs):
            if runs_dbt(args):
                refuse_in_fast_tier(f"{args!r}"[:200])
            return run(args, *rest, **kwargs)

        patch.setattr(subprocess, "run", run_unless_dbt)
        yield


@build_fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A small generated data set with planted truth, built end to end, with
    dbt's unit tests (the one build of the suite that runs them)."""
    root = tmp_path_factory.mktemp("demo")
    data_dir = generate(root / "data", "--customers", "1500", "--seed", "7")
    return build(data_dir, root / "build", unit_tests=True)


@build_fixture(scope="session")
def ml_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo data set of the README (5,000 customers, seed 42), built end
    to end: large enough for the planted personas and anomalies to be
    judged, and the figures in docs/ml_models.md are its figures."""
    root = tmp_path_factory.mktemp("ml")
    data_dir = generate(root / "data", "--customers", "5000", "--seed", "42")
    return build(data_dir, root / "build")


@build_fixture(scope="session")
def planted_build(tmp_path_factory) -> tuple[Warehouse, Planted]:
    """The shared data set of planted defects (planted.py): the cases of
    every concern planted in one generated data set, built end to end once,
    in a raw directory whose path holds a quote, double quotes and spaces."""
    root = tmp_path_factory.mktemp("adversarial")
    generated = generate(root / "generated", "--customers", "200", "--seed", "11")
    raw_dir = root / 'it\'s "raw" data'
    shutil.copytree(generated / "raw", raw_dir)
    planted = plant(raw_dir, planted_cases())
    work = root / "build"
    work.mkdir()
    result = run_dbt(["build"], raw_dir, work / "warehouse.duckdb", work)
    assert result.returncode == 0, result.stdout[-8000:]
    return Warehouse(work / "warehouse.duckdb", raw_dir, result), planted
