"""The raw load (crm_analytics.ingest) on small directories, without dbt:
only new files are read, a changed or deleted loaded file reloads its table
in full, rows keep their file and row number."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from crm_analytics.ingest import MANIFEST, ingest, shown, stop_message


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "order_id,account_id,ordered_at\n"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write(raw / "orders.csv", HEADER + "O1,A1,2024-01-01\nO2,A1,2024-01-02\n")
    write(raw / "orders" / "2024-02-01.csv", HEADER + "O3,A2,2024-02-01\n")
    return raw


def load(connection, raw: Path, **kwargs):
    lines: list[str] = []
    result = ingest(connection, raw, log=lines.append, **kwargs)
    return result, lines


def orders(connection) -> list[tuple]:
    return connection.execute(
        "select _row_number, _source_file, order_id from raw.orders "
        "order by _row_number"
    ).fetchall()


def test_first_load_numbers_rows_across_the_file_and_its_batches(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        result, _ = load(connection, raw)
        assert result.ok
        assert result.files_read["orders"] == ["orders.csv", "orders/2024-02-01.csv"]
        assert orders(connection) == [
            (1, "orders.csv", "O1"),
            (2, "orders.csv", "O2"),
            (3, "orders/2024-02-01.csv", "O3"),
        ]
        manifest = connection.execute(
            f"select file, rows, first_row_number from {MANIFEST} "
            "where table_name = 'orders' order by 3"
        ).fetchall()
        assert manifest == [("orders.csv", 2, 1), ("orders/2024-02-01.csv", 1, 3)]
        # every contract table exists, empty when its file is absent
        assert connection.execute("select count(*) from raw.tickets").fetchone() == (0,)


def test_a_new_batch_is_the_only_file_read_and_is_appended(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        result, _ = load(connection, raw)
        assert result.files_read["orders"] == []
        assert "orders" not in result.refreshed
        write(raw / "orders" / "2024-02-02.csv", HEADER + "O4,A3,2024-02-02\n")
        result, _ = load(connection, raw)
        assert result.files_read["orders"] == ["orders/2024-02-02.csv"]
        assert "orders" not in result.refreshed
        assert orders(connection)[-1] == (4, "orders/2024-02-02.csv", "O4")


def test_a_changed_loaded_file_reloads_its_table_in_full(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        batch = raw / "orders" / "2024-02-01.csv"
        # same size, other content, a later modification time
        write(batch, HEADER + "O9,A2,2024-02-01\n")
        os.utime(batch, ns=(batch.stat().st_atime_ns, batch.stat().st_mtime_ns + 10**9))
        result, lines = load(connection, raw)
        assert result.refreshed["orders"] == (
            "orders/2024-02-01.csv changed since it was loaded"
        )
        assert result.files_read["orders"] == ["orders.csv", "orders/2024-02-01.csv"]
        assert "raw.orders: reloading in full: orders/2024-02-01.csv changed" in (
            "\n".join(lines)
        )
        assert [row[2] for row in orders(connection)] == ["O1", "O2", "O9"]
        # untouched tables are not reloaded
        assert "tickets" not in result.refreshed


def test_a_touched_file_with_the_same_content_is_not_reloaded(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        path = raw / "orders.csv"
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        result, _ = load(connection, raw)
        assert "orders" not in result.refreshed
        assert result.files_read["orders"] == []


def test_a_deleted_file_or_an_early_new_batch_reloads_in_full(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        write(raw / "orders" / "2024-01-15.csv", HEADER + "O5,A1,2024-01-15\n")
        result, _ = load(connection, raw)
        assert result.refreshed["orders"].startswith(
            "orders/2024-01-15.csv is new but sorts before files already loaded"
        )
        assert [row[2] for row in orders(connection)] == ["O1", "O2", "O5", "O3"]
        (raw / "orders" / "2024-02-01.csv").unlink()
        result, _ = load(connection, raw)
        assert result.refreshed["orders"] == (
            "orders/2024-02-01.csv, loaded before, is gone"
        )
        assert [row[2] for row in orders(connection)] == ["O1", "O2", "O5"]


def test_full_refresh_reloads_everything(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        result, _ = load(connection, raw, full_refresh=True)
        assert result.refreshed["orders"] == "a full refresh was asked for"
        assert len(orders(connection)) == 3


def test_a_bad_file_is_a_problem_and_its_table_is_not_half_loaded(raw, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        load(connection, raw)
        write(raw / "orders" / "2024-02-02.csv", HEADER + "O4,A3\n")
        result, _ = load(connection, raw)
        assert [p.text for p in result.problems] == [
            "orders/2024-02-02.csv row 1 has 2 value(s) where the header has 3 "
            "columns (it starts 'O4,A3'): a row cut short, a line break outside "
            "quotes, or a quote that is never closed? Put values holding commas, "
            'quotes or line breaks in double quotes ("" for a quote inside).'
        ]
        assert orders(connection) == []
        stored = connection.execute(
            "select headline, problem from raw._load_problems"
        ).fetchall()
        assert stored == [(p.headline, p.text) for p in result.problems]
        # fixed, the next run loads the table in full again
        write(raw / "orders" / "2024-02-02.csv", HEADER + "O4,A3,2024-02-02\n")
        result, _ = load(connection, raw)
        assert result.ok
        assert len(orders(connection)) == 4


def test_no_purchase_data_is_the_one_problem(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "tickets.csv", "ticket_id,contact_id,opened_at\nT1,C1,2024-01-01\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        result, _ = load(connection, raw)
    assert stop_message(result.problems) == (
        "Nothing to build:\n  - No purchase data in raw_dir "
        f"'{raw}': provide orders.csv (with order_lines.csv) or transactions.csv; "
        "see docs/raw_data_contract.md."
    )


def test_shown_escapes_control_and_direction_characters():
    assert shown("a\nb\x1b[2J\u202ec\\") == "a\\nb\\x1b[2J\\u202ec\\\\"
    assert shown("x" * 50, limit=40) == "x" * 40 + "..."
