"""crm_analytics.compare: what differs between the marts of two files."""

from __future__ import annotations

from pathlib import Path

import duckdb

from crm_analytics.compare import compare, main, table_digests


def write(path: Path, statements: list[str]) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        for statement in statements:
            connection.execute(statement)
    return path


def test_equal_tables_renamed_columns_changed_values_and_new_tables(tmp_path):
    before = write(
        tmp_path / "before.duckdb",
        [
            "create table marts.same as select * from (values (1, 0.1 + 0.2), "
            "(2, 1.0)) t(id, x)",
            "create table marts.renamed as select 1 as id, 5 as net_amount",
            "create table marts.changed as select * from (values (1, 'a'), "
            "(2, 'b')) t(id, v)",
        ],
    )
    after = write(
        tmp_path / "after.duckdb",
        [
            # another row order and a last-bit difference in a double
            "create table marts.same as select * from (values (2, 1.0), "
            "(1, 0.3)) t(id, x)",
            "create table marts.renamed as select 1 as id, 5 as amount_after",
            "create table marts.changed as select * from (values (1, 'a'), "
            "(2, 'c')) t(id, v)",
            "create table marts.added as select 1 as id",
        ],
    )
    assert compare(before, after) == [
        f"added: only in {after}",
        "changed: differs (values of v in 1 rows)",
        "renamed: differs (columns removed ['net_amount'], added ['amount_after'])",
        "same: equal",
    ]
    assert main([str(before), str(after)]) == 1
    assert main([str(before), str(before)]) == 0
    digests = table_digests(before)
    assert digests["same"] == table_digests(after)["same"]
    assert digests["renamed"] == table_digests(after)["renamed"]
    assert digests["changed"] != table_digests(after)["changed"]
