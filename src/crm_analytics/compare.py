"""Compare the marts of two warehouse files, table by table and column by
column: what a refactoring, an upgrade or a new setting changed.

    python -m crm_analytics.compare BEFORE.duckdb AFTER.duckdb [--schema marts]

prints one line per table (equal, differs, only in one file) and, for a
table that differs, the columns whose values differ. Rows are compared as
sets, so row order does not matter; doubles count to 12 significant digits
(sums taken in another order differ in the last bits) and the columns of
RUN_METADATA_COLUMNS (when a build ran, not what it computed) are left out.
The exit status is 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

RUN_METADATA_COLUMNS = ("evaluated_at", "triaged_at", "built_at", "built_as_of_date")
"""Columns that record when a build ran, not what it computed (a row an
incremental run kept holds the as_of_date of the run that built it)."""


def _comparable(column: str, data_type: str, alias: str = "") -> str:
    """SQL text of a column as compared: doubles to 12 significant digits,
    after rounding to 15 (a mean like 1.258014410875 summed in another order
    is 1.2580144108750002, which would round to 12 digits the other way)."""
    quoted = (f"{alias}." if alias else "") + '"' + column.replace('"', '""') + '"'
    if data_type in ("DOUBLE", "FLOAT"):
        return f"printf('%.12g', cast(printf('%.15g', {quoted}) as double))"
    return quoted


def _columns(
    connection: duckdb.DuckDBPyConnection, database: str, schema: str
) -> dict[str, list[tuple[str, str]]]:
    rows = connection.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? "
        "order by table_name, column_index",
        [database, schema],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        if column not in RUN_METADATA_COLUMNS:
            tables.setdefault(table, []).append((column, data_type))
    return tables


def _digest(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str]],
) -> str:
    items = ", ".join(_comparable(name, data_type) for name, data_type in columns)
    return connection.execute(
        "select md5(coalesce(string_agg(row_text, chr(10) order by row_text), '')) "
        f"from (select cast(row({items}) as varchar) as row_text from {relation})"
    ).fetchone()[0]


def table_digests(path: Path, schema: str = "marts") -> dict[str, str]:
    """md5 of each table's rows as text, sorted, by table name (values only:
    a renamed column with the same values keeps its digest)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        database = connection.execute("select current_database()").fetchone()[0]
        return {
            table: _digest(connection, f'"{schema}"."{table}"', columns)
            for table, columns in _columns(connection, database, schema).items()
        }


def compare(before: Path, after: Path, schema: str = "marts") -> list[str]:
    """One line per table of either file: equal, differs (with the columns
    whose values differ, joined on the table's first column), or only in
    one of them."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{before}' as before (read_only)")
        connection.execute(f"attach '{after}' as after (read_only)")
        old = _columns(connection, "before", schema)
        new = _columns(connection, "after", schema)
        lines = []
        for table in sorted(set(old) | set(new)):
            if table not in new:
                lines.append(f"{table}: only in {before}")
                continue
            if table not in old:
                lines.append(f"{table}: only in {after}")
                continue
            left = _digest(connection, f'before."{schema}"."{table}"', old[table])
            right = _digest(connection, f'after."{schema}"."{table}"', new[table])
            if left == right and [c for c, _ in old[table]] == [
                c for c, _ in new[table]
            ]:
                lines.append(f"{table}: equal")
                continue
            what = _what_differs(connection, schema, table, old[table], new[table])
            lines.append(f"{table}: differs ({what})")
        return lines


def _what_differs(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    old: list[tuple[str, str]],
    new: list[tuple[str, str]],
) -> str:
    old_names, new_names = [c for c, _ in old], [c for c, _ in new]
    notes = []
    if set(old_names) != set(new_names):
        gone = [c for c in old_names if c not in new_names]
        added = [c for c in new_names if c not in old_names]
        notes.append(f"columns removed {gone}, added {added}")
    counts = [
        connection.execute(
            f'select count(*) from {db}."{schema}"."{table}"'
        ).fetchone()[0]
        for db in ("before", "after")
    ]
    if counts[0] != counts[1]:
        notes.append(f"rows {counts[0]} -> {counts[1]}")
    key = old_names[0]
    if key in new_names:
        types = dict(old)
        changed = []
        for column in old_names[1:]:
            if column not in new_names:
                continue
            count = connection.execute(
                f'select count(*) from before."{schema}"."{table}" as b '
                f'full join after."{schema}"."{table}" as a using ("{key}") '
                f"where {_comparable(column, types[column], 'b')} "
                f"is distinct from {_comparable(column, types[column], 'a')}"
            ).fetchone()[0]
            if count:
                changed.append(f"{column} in {count} rows")
        if changed:
            notes.append("values of " + ", ".join(changed))
    return "; ".join(notes) or "row values"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the warehouse file before")
    parser.add_argument("after", type=Path, help="the warehouse file after")
    parser.add_argument("--schema", default="marts", help="schema to compare")
    args = parser.parse_args(argv)
    lines = compare(args.before, args.after, args.schema)
    for line in lines:
        print(line)
    return 0 if all(line.endswith(": equal") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
