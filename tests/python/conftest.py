"""pytest hooks and the shared build fixtures. The helpers they use are in
helpers.py (generate, run_dbt, build, ...); tests import that module, not
this one."""

from __future__ import annotations

import pytest

# Assertions in the helper module explain themselves as a test's would.
pytest.register_assert_rewrite("helpers")

# Importing helpers sets CRM_PII_HASH_KEY and TZ for every build the tests
# start (see there): this import comes before any test or fixture runs.
from helpers import Warehouse, build, generate  # noqa: E402

#: Fixtures that build a warehouse with dbt: a test using one (directly or
#: through another fixture) is marked ``e2e`` at collection.
BUILD_FIXTURES = frozenset({"demo_warehouse", "ml_warehouse"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BUILD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A small generated data set with planted truth, built end to end."""
    root = tmp_path_factory.mktemp("demo")
    data_dir = generate(root / "data", "--customers", "1500", "--seed", "7")
    return build(data_dir, root / "build")


@pytest.fixture(scope="session")
def ml_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo data set of the README (5,000 customers, seed 42), built end
    to end: large enough for the planted personas and anomalies to be
    judged, and the figures in docs/ml_models.md are its figures."""
    root = tmp_path_factory.mktemp("ml")
    data_dir = generate(root / "data", "--customers", "5000", "--seed", "42")
    return build(data_dir, root / "build")
