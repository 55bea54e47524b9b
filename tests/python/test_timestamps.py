"""The timestamp parser (macros/parse_timestamp.sql) on a real load: a value
that names its zone is converted to UTC, a value without one is UTC, and
neither depends on the other values of the file or on the machine's zone.

DuckDB's cast to timestamptz reads the zone-less values that follow a zone
name (``PST``) in the same 2,048-row vector in that zone, so the zone row is
put first in a file of 10,000 rows."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from helpers import Warehouse, build_fixture, run_dbt

ZONED = {
    # a zone name is an ICU zone id: PST is America/Los_Angeles, on summer
    # time since 02:00 that day (UTC-7)
    "Z1": ("2024-03-10 12:00:00 PST", "2024-03-10 19:00:00"),
    "Z2": ("2024-07-01 10:00:00 Europe/Berlin", "2024-07-01 08:00:00"),
    "Z3": ("2024-01-01T10:00:00+05:30", "2024-01-01 04:30:00"),
    "Z4": ("2024-01-01T10:00:00Z", "2024-01-01 10:00:00"),
    "Z5": ("2024-01-01 10:00:00-08:00", "2024-01-01 18:00:00"),
}
NAIVE_ROWS = 10_000


def naive(number: int) -> tuple[str, str]:
    """A zone-less value (summer and winter, ISO and day-first) and its UTC."""
    hour = number % 24
    if number % 2:
        return f"2024-07-{1 + number % 28:02d} {hour:02d}:30:00", (
            f"2024-07-{1 + number % 28:02d} {hour:02d}:30:00"
        )
    return f"{1 + number % 28:02d}/01/2024 {hour:02d}:15", (
        f"2024-01-{1 + number % 28:02d} {hour:02d}:15:00"
    )


@build_fixture(scope="module")
def parsed(tmp_path_factory) -> tuple[dict[str, str], dict[str, str]]:
    root = tmp_path_factory.mktemp("timestamps")
    raw = root / "raw"
    raw.mkdir()
    expected: dict[str, str] = {}
    rows = []
    for order_id, (text, utc) in ZONED.items():
        rows.append([order_id, "A1", text])
        expected[order_id] = utc
    for number in range(NAIVE_ROWS):
        text, utc = naive(number)
        rows.append([f"N{number}", "A1", text])
        expected[f"N{number}"] = utc
    with open(raw / "orders.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [["order_id", "account_id", "ordered_at"], *rows]
        )
    work = root / "build"
    result = run_dbt(
        ["run", "--select", "stg_shop__orders"], raw, work / "warehouse.duckdb", work
    )
    assert result.returncode == 0, result.stdout[-4000:]
    frame = Warehouse(work / "warehouse.duckdb", raw, result).query(
        "select order_id, strftime(ordered_at, '%Y-%m-%d %H:%M:%S') as utc "
        "from staging.stg_shop__orders"
    )
    return expected, dict(zip(frame["order_id"], frame["utc"], strict=True))


@pytest.mark.e2e
def test_a_value_with_a_zone_is_converted_to_utc(parsed):
    expected, got = parsed
    assert {key: got[key] for key in ZONED} == {key: expected[key] for key in ZONED}


@pytest.mark.e2e
def test_values_without_a_zone_are_utc_whatever_comes_before_them(parsed):
    expected, got = parsed
    shifted = {
        key: (got[key], expected[key])
        for key in expected
        if key.startswith("N") and got[key] != expected[key]
    }
    examples = dict(list(shifted.items())[:3])
    assert not shifted, f"{len(shifted)} zone-less values moved, e.g. {examples}"


def test_the_suite_runs_builds_outside_utc():
    # The assertions above mean more when the build's own zone is not UTC
    # (helpers.py, imported by conftest.py, sets TZ for every build the tests
    # start).
    assert os.environ["TZ"] not in ("UTC", "Etc/UTC", "")
    assert Path("/usr/share/zoneinfo", os.environ["TZ"]).exists()
