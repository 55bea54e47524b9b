"""Load the raw files into schema ``raw`` of the build file, as the raw
contract says (docs/raw_data_contract.md), and only what is new.

For every raw table of the contract (the dbt sources in schema ``raw``) it
reads ``<raw_dir>/<table>.csv`` or ``.parquet`` and the load batches in
``<raw_dir>/<table>/`` into ``raw.<table>``: the contract's columns in
contract order, all as text, plus ``_row_number`` (the row's place among
the table's rows: the single file first, then the batches in name order)
and ``_source_file`` (the file's path under the raw directory). A table
whose file is absent becomes an empty table of the same shape.

**Only what is new.** ``raw._loaded_files`` records every file loaded
(path, size, modification time, BLAKE2b hash, rows, first row number). A
run reads only the files not loaded yet, when they sort after every loaded
file of their table (a new daily batch), and appends them. A loaded file
that changed or went away, a new file sorting before a loaded one, another
contract (the project's columns changed) or ``--full-refresh`` reloads the
table in full, and the log says why. A file whose size and modification
time are unchanged is taken as unchanged; one whose time changed is hashed
again and reloaded only if its content changed.

**Checked as it is read.** The CSV dialect is fixed (comma, ``"`` quoting,
UTF-8, a header row), not sniffed, and every row is checked: the problems
of every file are gathered and the build stops once, with one message
listing each problem with its file, row or column and what to fix
(docs/bad_input.md lists them all). DuckDB reads each file on all threads;
row numbers come from the table's insertion order, not from a window.

dbt runs this itself: the project's dbt-duckdb plugin
(``crm_analytics.duckdb_plugin``) calls :func:`ingest` when ``dbt build``
(or run, seed, test) opens the build file, before the on-run-start hook,
which reports the problems recorded in ``raw._load_problems``. So ``make
build`` and a bare ``dbt build`` load the same way, and a second build on
the same files reads nothing. ``python -m crm_analytics.ingest`` loads
without building (to time the load, or to check a raw directory).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm_analytics.contract import ContractTable, load_contract

MANIFEST = "raw._loaded_files"
PROBLEMS = "raw._load_problems"
PURCHASE_TABLES = ("orders", "transactions")
MAX_COLUMNS = 1000
"""The widest header read (a file with more columns is cut there)."""
NULL_MARKER = "#crm_analytics:no value#"
"""DuckDB's nullstr: a marker no file holds, so that empty values read as ''
and a null marks a value the row did not have."""
BAD_INPUT_HEADLINE = (
    "Bad raw input in '{raw_dir}'; the build stopped before anything was "
    "built. Fix these and run again (rows count from 1 after the header row; "
    "the file formats: docs/raw_data_contract.md):"
)
NOTHING_TO_BUILD = "Nothing to build:"

Log = Callable[[str], None]


# --- showing user text -------------------------------------------------------

_CONTROL = {code for code in [*range(0, 32), 127, *range(128, 160)]}
_BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}


def shown(text: object, limit: int | None = None) -> str:
    """The one way a file name, path or value from the raw input is shown in
    a message or log line: control characters (C0, DEL, C1) and the Unicode
    bidirectional overrides are written as escapes (``\\n``, ``\\x1b``,
    ``\\u202e``), so a name holding a line break cannot forge a log line and
    an ANSI escape cannot clear the screen; with ``limit``, text beyond that
    many characters is cut and marked with ``...``."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    out = []
    for char in text.replace("\\", "\\\\"):
        code = ord(char)
        if char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code in _CONTROL:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _literal(text: str) -> str:
    """A SQL string literal of ``text``."""
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    """A SQL identifier of ``name``."""
    return '"' + name.replace('"', '""') + '"'


# --- what a run found ------------------------------------------------------


@dataclass
class Problem:
    """One line of a stop message, under its headline."""

    headline: str
    text: str


@dataclass
class LoadResult:
    """What :func:`ingest` did."""

    problems: list[Problem] = field(default_factory=list)
    #: raw table -> rows in it after the run
    rows: dict[str, int] = field(default_factory=dict)
    #: raw table -> files read in this run
    files_read: dict[str, list[str]] = field(default_factory=dict)
    #: raw table -> why it was reloaded in full (absent: appended or unchanged)
    refreshed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class FileState:
    """A raw file as found on disk (``path`` relative to the raw directory)."""

    path: str
    size: int
    modified_ns: int


# --- the header and the columns ---------------------------------------------


def check_columns(
    label: str, table: ContractTable, names: list[str], problems: list[str]
) -> bool:
    """Checks the header of one raw file against the contract, appending to
    ``problems``: a required column missing, or a contract column present
    twice (names match case-insensitively and trimmed). ``names`` are the
    file's column names in file order. True when the file can be read."""
    seen: list[str] = []
    duplicated: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key in seen and key not in duplicated:
            duplicated.append(key)
        seen.append(key)
    # The header is file content: at most 20 names of at most 40 characters
    # are shown (and escaped), so a wrong file (not a CSV) is not echoed.
    listed = [name[:40] + ("..." if len(name) > 40 else "") for name in names[:20]]
    if len(names) > 20:
        listed.append(f"and {len(names) - 20} more")
    missing = [c.name for c in table.columns if c.required and c.name not in seen]
    twice = [c.name for c in table.columns if c.name in duplicated]
    if missing:
        separators = [
            word
            for separator, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes"))
            if len(names) == 1 and separator in names[0]
        ]
        hint = (
            f"The file seems separated by {separators[0]}: save it comma-separated."
            if separators
            else "Name the columns as in docs/raw_data_contract.md."
        )
        problems.append(
            f"{label} lacks required column(s) {', '.join(missing)}; it has "
            f"{', '.join(listed) if listed else 'no columns'}. {hint}"
        )
    if twice:
        problems.append(
            f"{label} has column(s) {', '.join(twice)} more than once (names "
            "are matched case-insensitively): keep one of each."
        )
    return not missing and not twice


# --- reading one CSV file ---------------------------------------------------


def _dialect(errors: bool) -> str:
    return (
        "delim = ',', quote = '\"', escape = '\"', strict_mode = false, "
        f"null_padding = true, nullstr = {_literal(NULL_MARKER)}"
        + (
            ", store_rejects = true, rejects_table = 'raw_load_errors', "
            "rejects_scan = 'raw_load_scans'"
            if errors
            else ""
        )
    )


def _columns_spec(count: int) -> str:
    return "{" + ", ".join(f"'c{i}': 'varchar'" for i in range(1, count + 1)) + "}"


def _excerpt(n: int) -> str:
    """SQL: the row's first three values, control characters blanked, 50
    characters at most (what a message quotes of a row)."""
    values = ", ".join(f"c{i}" for i in range(1, min(n, 3) + 1))
    return (
        f"left(regexp_replace(concat_ws(',', {values}), "
        "'[\\x00-\\x1f\\x7f]', ' ', 'g'), 50)"
    )


def read_csv_checked(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    label: str,
    table: ContractTable,
    problems: list[str],
) -> dict[str, int] | None:
    """Reads one raw CSV file into the temporary table ``raw_load_rows``
    (``_rn``, the 1-based row after the header, then ``c1``, ``c2``, ... by
    position, all text, empty values as '') and checks it. Returns the
    position of each contract column present, or None when the file has
    problems (appended to ``problems`` with the file, the row and what to
    fix).

    DuckDB's strict mode stops on the first bad row, so the file is read
    leniently instead and every row is checked: one spare column beyond the
    header catches rows with too many values, and a null in the last column
    marks a row with too few (a row cut short, or an unclosed quote that
    swallowed what followed). Rows DuckDB cannot read at all (not UTF-8,
    longer than the line size limit) are collected with store_rejects.
    Columns are addressed by position, so header names never reach SQL."""
    file_sql = _literal(str(path))
    for name in ("raw_load_errors", "raw_load_scans"):
        connection.execute(f"drop table if exists {name}")
    header = connection.execute(
        "select cast(substr(column_name, 2) as integer) as position, header_name "
        "from (unpivot (select * from read_csv("
        f"{file_sql}, header = false, auto_detect = false, "
        f"columns = {_columns_spec(MAX_COLUMNS)}, {_dialect(True)}, "
        "parallel = false) limit 1) on columns(*) into name column_name value "
        "header_name) order by 1"
    ).fetchall()
    names = [name for _, name in header]
    width = max(len(names), 1)
    for name in ("raw_load_errors", "raw_load_scans"):
        connection.execute(f"drop table if exists {name}")
    # Insertion order is the file's order (preserve_insertion_order), so the
    # temporary table's rowid numbers the rows without a window.
    connection.execute(
        "create or replace temp table raw_load_rows as select * from read_csv("
        f"{file_sql}, header = {'true' if names else 'false'}, "
        f"auto_detect = false, columns = {_columns_spec(width + 1)}, "
        f"{_dialect(True)})"
    )
    connection.execute(
        "create or replace temp view raw_load_numbered as "
        "select rowid + 1 as _rn, * from raw_load_rows"
    )
    skip = 1 if names else 0
    unreadable = connection.execute(
        "select line, min(error_type), count(*) over () from raw_load_errors "
        "group by line order by line limit 3"
    ).fetchall()
    for line, error_type, _ in unreadable:
        where = f"{label} header row" if line <= skip else f"{label} row {line - skip}"
        if error_type == "INVALID ENCODING":
            what = (
                "is not UTF-8 text (a Latin-1/Windows-1252 or UTF-16 file, or "
                "not a CSV at all?): save the file as UTF-8 CSV (Excel: 'CSV "
                "UTF-8'; or iconv -f latin1 -t utf-8)."
            )
        elif error_type == "LINE SIZE OVER MAXIMUM":
            what = (
                "is longer than DuckDB's maximum line size (2 MB): shorten the "
                "value, or look for a quote that is never closed."
            )
        else:
            what = f"cannot be read ({error_type})."
        problems.append(f"{where} {what}")
    if unreadable:
        if unreadable[0][2] > 3:
            problems.append(
                f"{label}: {unreadable[0][2] - 3} more unreadable row(s) like these."
            )
        return None
    if not names:
        size = path.stat().st_size
        problems.append(
            label
            + (
                " is empty (0 bytes)"
                if size == 0
                else " has no header row (only blank lines)"
            )
            + ": write the header row (and the rows, if any), or delete the "
            "file if the table has no data."
        )
        return None
    if any("\x00" in name for name in names):
        problems.append(
            f"{label} has NUL characters in its header row: a UTF-16 ('Unicode "
            "text') file? Save it as UTF-8 CSV."
        )
        return None
    if not check_columns(label, table, names, problems):
        return None
    n = len(names)
    breaks_any = " or ".join(
        f"(contains(c{i}, chr(10)) or contains(c{i}, chr(13)))" for i in range(1, n + 1)
    )
    # One scan counts the rows each check below would look at; most files
    # have none, and the checks' own queries then do not run.
    count_malformed, count_breaks, count_rows = connection.execute(
        f"select count(*) filter (where c{n} is null or c{n + 1} is not null), "
        f"count(*) filter (where {breaks_any}), count(*) from raw_load_rows"
    ).fetchone()
    counted = " + ".join(f"(c{i} is not null)::integer" for i in range(1, n + 1))
    malformed = (
        []
        if count_malformed == 0
        else connection.execute(
            f"select _rn, {counted}, c{n + 1} is not null, {_excerpt(n)}, "
            f"count(*) over () from raw_load_numbered where c{n} is null or "
            f"c{n + 1} is not null order by _rn limit 3"
        ).fetchall()
    )
    for rn, values, too_many, excerpt, _ in malformed:
        if too_many:
            problems.append(
                f"{label} row {rn} has more values than the {n} columns of the "
                f"header (it starts '{excerpt}'): a comma in a value that is not "
                "quoted, or a quote that is never closed? Put values holding "
                'commas, quotes or line breaks in double quotes ("" for a quote '
                "inside)."
            )
        else:
            problems.append(
                f"{label} row {rn} has {values} value(s) where the header has {n} "
                f"columns (it starts '{excerpt}'): a row cut short, a line break "
                "outside quotes, or a quote that is never closed? Put values "
                'holding commas, quotes or line breaks in double quotes ("" for '
                "a quote inside)."
            )
    if malformed:
        if malformed[0][4] > 3:
            problems.append(
                f"{label}: {malformed[0][4] - 3} more malformed row(s) like these."
            )
        return None
    if count_breaks == 0:
        return _positions(names)
    # An opening quote never closed in the last column makes the rest of the
    # file one value of the last row, with a right count of values. So when
    # the last row holds a line break, the file's quotes are counted line by
    # line (no quoting): an odd total means an unclosed quote.
    last_row = connection.execute(
        f"select _rn, {_excerpt(n)} from raw_load_numbered "
        f"where _rn = {count_rows} and ({breaks_any})"
    ).fetchall()
    if last_row:
        odd_quotes = connection.execute(
            "select coalesce(sum(length(line) - length(replace(line, '\"', ''))), 0) "
            f"% 2 = 1 from read_csv({file_sql}, header = false, auto_detect = "
            "false, columns = {'line': 'varchar', 'rest': 'varchar'}, delim = "
            "E'\\x01\\x02', quote = '', escape = '', strict_mode = false, "
            "null_padding = true, parallel = false)"
        ).fetchone()[0]
        if odd_quotes:
            problems.append(
                f"{label} row {last_row[0][0]} (it starts '{last_row[0][1]}') "
                "holds a quoted value that runs to the end of the file: a quote "
                'opened and never closed? Close it, and write "" for a quote '
                "inside a quoted value."
            )
            return None
    # A quote opened and never closed that is closed again further down (by a
    # quote at the end of a later row) swallows the rows in between into one
    # value, with a right count of values. Such a value holds a line break
    # followed by a line that reads as a whole row of the same file: at
    # least as many comma-separated values as the header has columns, the
    # first of them shaped like the row's own first value (digits as 9,
    # letters as a: 'O00011' is shaped like 'O00010'). A real multi-line
    # comment rarely has a line like that, so the rule stops the build
    # rather than quarantining rows it cannot tell apart.
    if n >= 2:

        def shape(expression: str) -> str:
            return (
                f"regexp_replace(regexp_replace(trim({expression}), '[0-9]', "
                "'9', 'g'), '[^\\W\\d_]', 'a', 'g')"
            )

        first_value = shape("string_split(line, ',')[1]")
        swallowing = [
            f"len(list_filter(string_split(replace(replace(c{i}, chr(13) || "
            "chr(10), chr(10)), chr(13), chr(10)), chr(10))[2:], lambda line: "
            f"len(string_split(line, ',')) >= {n} and "
            f"{first_value} = {shape('c1')})) > 0"
            for i in range(1, n + 1)
        ]
        cases = " ".join(
            f"when {rule} then {i}" for i, rule in enumerate(swallowing, 1)
        )
        swallowed = connection.execute(
            f"select _rn, case {cases} end, {_excerpt(n)}, count(*) over () "
            f"from (select * from raw_load_numbered where {breaks_any}) where "
            f"{' or '.join(swallowing)} order by _rn limit 3"
        ).fetchall()
        for rn, column, excerpt, _ in swallowed:
            problems.append(
                f"{label} row {rn} (it starts '{excerpt}'): its "
                f"{names[column - 1].strip().lower()} value holds a line break "
                "followed by what reads as a whole row of the file, so a quote "
                "opened there and never closed has probably swallowed the next "
                'row(s). Close the quote, and write "" for a quote inside a '
                "quoted value."
            )
        if swallowed:
            if swallowed[0][3] > 3:
                problems.append(
                    f"{label}: {swallowed[0][3] - 3} more row(s) like these."
                )
            return None
    return _positions(names)


def _positions(names: list[str]) -> dict[str, int]:
    """The 1-based position of each column name (trimmed, lower-cased; the
    first of a repeated name)."""
    positions: dict[str, int] = {}
    for index, name in enumerate(names, 1):
        positions.setdefault(name.strip().lower(), index)
    return positions


# --- reading one Parquet file ------------------------------------------------


def parquet_names(
    connection: duckdb.DuckDBPyConnection, path: Path
) -> tuple[list[str], list[str]]:
    """(the columns DuckDB reads, the file's own top-level names). DuckDB
    renames a second column of the same name in another case (``order_id``,
    ``ORDER_ID`` become order_id, ORDER_ID_1), so the duplicate check reads
    the names from the file's schema, as a CSV header is read."""
    file_sql = _literal(str(path))
    names = [
        row[0]
        for row in connection.execute(
            f"describe select * from read_parquet({file_sql})"
        ).fetchall()
    ]
    schema = connection.execute(
        f"select name, coalesce(num_children, 0) from parquet_schema({file_sql})"
    ).fetchall()
    file_names: list[str] = []
    stack: list[int] = []
    for index, (name, children) in enumerate(schema):
        if index == 0:
            stack.append(children)
            continue
        if len(stack) == 1:
            file_names.append(name)
        stack.append(stack.pop() - 1)
        if children > 0:
            stack.append(children)
        while stack and stack[-1] == 0:
            stack.pop()
    return names, file_names


def is_parquet(path: Path) -> bool:
    """A Parquet file starts and ends with PAR1: a file without the marks (a
    CSV renamed, a partial copy) would fail DuckDB's read with a bare error."""
    size = path.stat().st_size
    if size < 12:
        return False
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(-4, os.SEEK_END)
        return head == b"PAR1" and handle.read(4) == b"PAR1"


# --- the files of a raw directory ------------------------------------------


def raw_files(raw_dir: Path, table: str) -> list[Path]:
    """The table's single file (``<table>.csv|parquet``), then its load
    batches (``<table>/*.csv|parquet``) in name order."""
    single = sorted(
        path
        for path in raw_dir.glob(f"{table}.*")
        if path.name in (f"{table}.csv", f"{table}.parquet") and not path.is_dir()
    )
    folder = raw_dir / table
    batches = (
        sorted(
            path
            for path in folder.iterdir()
            if path.suffix in (".csv", ".parquet") and not path.is_dir()
        )
        if folder.is_dir()
        else []
    )
    return [*single, *batches]


def check_names(
    raw_dir: Path, tables: list[str], problems: list[str], log: Log
) -> None:
    """Files directly in raw_dir that belong to no raw table are not read.
    When such a file looks like a raw table's file (the name in another
    case, or another format: ``Orders.CSV``, ``orders.xlsx``) it is a
    problem, since its rows would silently be missing; any other file is
    listed in the log as ignored. A folder named like a raw table's file
    (``orders.csv/``) is named too."""
    entries = sorted(raw_dir.iterdir(), key=lambda path: path.name)
    for entry in entries:
        name = entry.name
        stem = name.split(".")[0]
        extension = name[len(stem) :]
        if entry.is_dir():
            if stem.lower() in tables and extension.lower() in (".csv", ".parquet"):
                problems.append(
                    f"{name} is a folder, not a file: a raw table is read from "
                    f"the file {stem.lower()}.csv or .parquet (and from load "
                    f"batches in a folder named {stem.lower()}/). Put the file "
                    "itself there, or rename the folder."
                )
            continue
        if stem in tables and extension in (".csv", ".parquet"):
            continue
        if stem.lower() in tables:
            lower = extension.lower()
            wanted = stem.lower() + (lower if lower in (".csv", ".parquet") else ".csv")
            if lower in (".csv", ".parquet"):
                problems.append(
                    f"{name}: file names are case-sensitive; rename it to "
                    f"{wanted} so that it is read."
                )
            else:
                problems.append(
                    f"{name}: not a CSV or Parquet file ({extension}); export "
                    f"the table as {wanted} (UTF-8 CSV) or Parquet."
                )
        else:
            log(f"ignored (not a raw table's file): {shown(name)}")


# --- the manifest ------------------------------------------------------------


def contract_hash(table: ContractTable) -> str:
    """What a raw table's shape depends on: its columns, in order."""
    return hashlib.blake2b(
        json.dumps([c.name for c in table.columns]).encode(), digest_size=16
    ).hexdigest()


def file_hash(path: Path) -> str:
    """BLAKE2b of the file's content (hashlib releases the GIL on large
    reads, so files hash on threads beside DuckDB's reading)."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _ensure_manifest(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("create schema if not exists raw")
    connection.execute(
        f"create table if not exists {MANIFEST} ("
        "table_name varchar, file varchar, size bigint, modified_ns bigint, "
        "content_hash varchar, rows bigint, first_row_number bigint, "
        "contract_hash varchar, loaded_at timestamp)"
    )


def _manifest(
    connection: duckdb.DuckDBPyConnection, table: str
) -> list[tuple[str, int, int, str, int, int, str]]:
    return connection.execute(
        "select file, size, modified_ns, content_hash, rows, first_row_number, "
        f"contract_hash from {MANIFEST} where table_name = ? order by "
        "first_row_number",
        [table],
    ).fetchall()


def _table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name = ?",
            [table],
        ).fetchone()[0]
    )


def plan_table(
    connection: duckdb.DuckDBPyConnection,
    table: ContractTable,
    found: list[FileState],
    hashes: dict[str, str],
    hash_of: Callable[[str], str],
    full_refresh: bool,
) -> tuple[str | None, list[FileState]]:
    """(why the table is reloaded in full, or None; the files to read). The
    files to read are all of them on a full reload, else those not loaded
    yet (which all sort after the loaded ones)."""
    if full_refresh:
        return "a full refresh was asked for", found
    if not _table_exists(connection, table.name):
        return "first load" if found else None, found
    loaded = _manifest(connection, table.name)
    if not loaded:
        if connection.execute(f"select count(*) from raw.{table.name}").fetchone()[0]:
            return "it was loaded without the manifest (an earlier version)", found
        return ("first load" if found else None), found
    if any(row[6] != contract_hash(table) for row in loaded):
        return "its columns in the raw contract changed", found
    on_disk = {state.path: state for state in found}
    for path, size, modified_ns, content_hash, *_ in loaded:
        state = on_disk.get(path)
        if state is None:
            return f"{shown(path)}, loaded before, is gone", found
        if state.size != size:
            return f"{shown(path)} changed since it was loaded (its size)", found
        if state.modified_ns != modified_ns:
            hashes[path] = hashes.get(path) or hash_of(path)
            if hashes[path] != content_hash:
                return f"{shown(path)} changed since it was loaded", found
    loaded_paths = [row[0] for row in loaded]
    new = [state for state in found if state.path not in set(loaded_paths)]
    last = found.index(on_disk[loaded_paths[-1]])
    early = [state for state in new if found.index(state) < last]
    if early:
        return (
            f"{shown(early[0].path)} is new but sorts before files already "
            "loaded (name new batches so that they sort last)",
            found,
        )
    return None, new


# --- loading -----------------------------------------------------------------


def _create_table(connection: duckdb.DuckDBPyConnection, table: ContractTable) -> None:
    columns = ", ".join(f"{_quoted(c.name)} varchar" for c in table.columns)
    connection.execute(
        f"create or replace table raw.{table.name} (_row_number bigint, "
        f"_source_file varchar, {columns})"
    )


def _insert_file(
    connection: duckdb.DuckDBPyConnection,
    table: ContractTable,
    path: Path,
    relative: str,
    problems: list[str],
    offset: int,
) -> int | None:
    """Reads one file into raw.<table> after row ``offset``; the rows
    inserted, or None when the file has problems."""
    label = relative
    source = _literal(relative)
    if path.suffix == ".csv":
        positions = read_csv_checked(connection, path, label, table, problems)
        if positions is None:
            return None
        select_list = ", ".join(
            f"nullif(c{positions[c.name]}, '') as {_quoted(c.name)}"
            if c.name in positions
            else f"null::varchar as {_quoted(c.name)}"
            for c in table.columns
        )
        connection.execute(
            f"insert into raw.{table.name} select {offset} + _rn, {source}, "
            f"{select_list} from raw_load_numbered"
        )
        return connection.execute("select count(*) from raw_load_rows").fetchone()[0]
    if not is_parquet(path):
        problems.append(
            f"{label} is not a Parquet file (it lacks the PAR1 marks at its "
            "start and end: a CSV file renamed, or a partial copy?). Export it "
            f"again, or name a CSV file {table.name}.csv."
        )
        return None
    names, file_names = parquet_names(connection, path)
    if not check_columns(label, table, file_names, problems):
        return None
    present = {name.strip().lower(): name for name in names}
    select_list = ", ".join(
        f"cast({_quoted(present[c.name])} as varchar) as {_quoted(c.name)}"
        if c.name in present
        else f"null::varchar as {_quoted(c.name)}"
        for c in table.columns
    )
    connection.execute(
        "create or replace temp table raw_load_rows as select "
        f"{select_list} from read_parquet({_literal(str(path))})"
    )
    connection.execute(
        f"insert into raw.{table.name} select {offset} + rowid + 1, {source}, * "
        "from raw_load_rows"
    )
    return connection.execute("select count(*) from raw_load_rows").fetchone()[0]


def _file_state(raw_dir: Path, path: Path) -> FileState:
    stat = path.stat()
    return FileState(
        path.relative_to(raw_dir).as_posix(), stat.st_size, stat.st_mtime_ns
    )


def _refused_links(raw_dir: Path, files: list[Path], problems: list[str]) -> list[Path]:
    """The files that are neither a symbolic link nor in a linked folder (a
    link can point anywhere outside the raw directory, /etc/passwd; the
    raw directory itself may be a link); the others are refused."""
    kept = []
    for path in files:
        linked = path.is_symlink() or (
            path.parent != raw_dir and path.parent.is_symlink()
        )
        if linked:
            problems.append(
                f"{path.relative_to(raw_dir).as_posix()} is a symbolic link (or in "
                "a linked folder): the loader reads only files that are in the "
                "raw directory, since a link can point anywhere. Copy the file in "
                "instead (the raw directory itself may be a link)."
            )
        else:
            kept.append(path)
    return kept


def ingest(
    connection: duckdb.DuckDBPyConnection,
    raw_dir: Path | str,
    *,
    full_refresh: bool = False,
    log: Log = print,
    project_dir: Path | None = None,
) -> LoadResult:
    """Load the raw directory into schema raw of ``connection``'s database
    (see the module's doc); record the problems in raw._load_problems and
    return what was done. The files of a table with a problem are not
    loaded; the rest of the table's state is kept as it was."""
    started = time.perf_counter()
    raw_dir = Path(str(raw_dir).rstrip("/") or "/")
    tables = load_contract(project_dir) if project_dir else load_contract()
    result = LoadResult()
    headline = BAD_INPUT_HEADLINE.format(raw_dir=raw_dir)
    _ensure_manifest(connection)
    connection.execute(
        f"create or replace table {PROBLEMS} (position integer, headline varchar, "
        "problem varchar)"
    )
    problems: list[str] = []
    loaded_tables: list[str] = []
    states: dict[str, list[FileState]] = {}
    paths: dict[str, list[Path]] = {}
    for table in tables:
        files = raw_files(raw_dir, table.name)
        formats = sorted({path.suffix for path in files})
        if len(formats) > 1:
            problems.append(
                f"Both CSV and Parquet files for raw table {table.name} ("
                + ", ".join(path.relative_to(raw_dir).as_posix() for path in files)
                + "): keep one format per raw table."
            )
            loaded_tables.append(table.name)
            continue
        files = _refused_links(raw_dir, files, problems)
        paths[table.name] = files
        states[table.name] = [_file_state(raw_dir, path) for path in files]
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes: dict[str, str] = {}
        futures = {}

        def hash_of(relative: str) -> str:
            if relative not in futures:
                futures[relative] = pool.submit(file_hash, raw_dir / relative)
            return futures[relative].result()

        for table in tables:
            if table.name not in states:
                continue
            found = states[table.name]
            reason, to_read = plan_table(
                connection, table, found, hashes, hash_of, full_refresh
            )
            for state in to_read:
                hash_of(state.path)
            if reason is not None:
                result.refreshed[table.name] = reason
                _create_table(connection, table)
                connection.execute(
                    f"delete from {MANIFEST} where table_name = ?", [table.name]
                )
                offset = 0
                if reason not in ("first load",):
                    log(f"raw.{table.name}: reloading in full: {reason}")
            else:
                if not _table_exists(connection, table.name):
                    _create_table(connection, table)
                offset = connection.execute(
                    f"select coalesce(max(_row_number), 0) from raw.{table.name}"
                ).fetchone()[0]
            if found:
                loaded_tables.append(table.name)
            read = []
            file_problems: list[str] = []
            for state in to_read:
                path = raw_dir / state.path
                before = len(file_problems)
                rows = _insert_file(
                    connection, table, path, state.path, file_problems, offset
                )
                if rows is None or len(file_problems) > before:
                    continue
                connection.execute(
                    f"insert into {MANIFEST} values (?, ?, ?, ?, ?, ?, ?, ?, "
                    "current_timestamp)",
                    [
                        table.name,
                        state.path,
                        state.size,
                        state.modified_ns,
                        hash_of(state.path),
                        rows,
                        offset + 1,
                        contract_hash(table),
                    ],
                )
                offset += rows
                read.append(state.path)
            if file_problems:
                # A table with a bad file is not half loaded: the next run,
                # once the file is fixed, loads it in full.
                problems += file_problems
                _create_table(connection, table)
                connection.execute(
                    f"delete from {MANIFEST} where table_name = ?", [table.name]
                )
            result.files_read[table.name] = read
            count = connection.execute(
                f"select count(*) from raw.{table.name}"
            ).fetchone()[0]
            result.rows[table.name] = count
            if not found:
                log(f"raw.{table.name}: no file, empty table")
            elif read or reason is not None:
                origin = (
                    read[0]
                    if len(read) == 1
                    else f"{len(read)} files ({read[0]} ... {read[-1]})"
                    if read
                    else "no new file"
                )
                log(
                    f"raw.{table.name}: {count} rows"
                    + ("" if reason is not None else f", {len(read)} new file(s)")
                    + f" ({shown(origin)})"
                )
            else:
                log(f"raw.{table.name}: {count} rows, no new file")
    connection.execute("drop table if exists raw_load_errors")
    connection.execute("drop table if exists raw_load_scans")
    connection.execute("drop view if exists raw_load_numbered")
    connection.execute("drop table if exists raw_load_rows")
    check_names(raw_dir, [table.name for table in tables], problems, log)
    # Purchase files with a header and no rows would build marts with no
    # purchase at all: named here, before the build.
    loaded_purchases = [t for t in PURCHASE_TABLES if t in loaded_tables]
    clean_purchases = [
        table
        for table in loaded_purchases
        if not any(
            problem.startswith((f"{table}.", f"{table}/")) for problem in problems
        )
    ]
    if clean_purchases and len(clean_purchases) == len(loaded_purchases):
        purchase_rows = sum(result.rows.get(table, 0) for table in clean_purchases)
        if purchase_rows == 0:
            problems.append(
                ".csv and ".join(clean_purchases) + ".csv has no data rows (only a "
                "header), and there is no other purchase data, so there is "
                "nothing to build: add the rows (orders.csv with "
                "order_lines.csv, or transactions.csv), then build again."
            )
    result.problems = [Problem(headline, problem) for problem in problems]
    if not problems and not loaded_purchases:
        result.problems.append(
            Problem(
                NOTHING_TO_BUILD,
                f"No purchase data in raw_dir '{raw_dir}': provide orders.csv "
                "(with order_lines.csv) or transactions.csv; see "
                "docs/raw_data_contract.md.",
            )
        )
    if result.problems:
        connection.executemany(
            f"insert into {PROBLEMS} values (?, ?, ?)",
            [
                [position, problem.headline, problem.text]
                for position, problem in enumerate(result.problems)
            ],
        )
    result.seconds = time.perf_counter() - started
    return result


def stop_message(problems: list[Problem]) -> str:
    """The stop message of the first headline's problems: the headline and
    one line per problem, every line escaped (:func:`shown`)."""
    headline = problems[0].headline
    lines = [shown(headline)]
    lines += [f"  - {shown(p.text)}" for p in problems if p.headline == headline]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from crm_analytics.settings import environment_value

    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.ingest",
        description="Load the raw files (CRM_RAW_DIR) into schema raw of the "
        "build file, only what is new; dbt build does this itself.",
    )
    parser.add_argument(
        "--build-path",
        type=Path,
        default=None,
        help="the build file (default: CRM_DUCKDB_PATH)",
    )
    parser.add_argument(
        "--raw-dir", type=Path, default=None, help="default: CRM_RAW_DIR"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="reload every table in full"
    )
    args = parser.parse_args(argv)
    build_path = args.build_path or Path(environment_value("CRM_DUCKDB_PATH"))
    raw_dir = args.raw_dir or Path(environment_value("CRM_RAW_DIR"))
    if not raw_dir.is_dir():
        print(
            f"raw_dir '{shown(raw_dir)}' holds no files (or does not exist). Set "
            "CRM_RAW_DIR to the directory with your CSV/Parquet files; see "
            "docs/raw_data_contract.md.",
            file=sys.stderr,
        )
        return 1
    build_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_path)) as connection:
        result = ingest(connection, raw_dir, full_refresh=args.full_refresh)
    if result.problems:
        print(stop_message(result.problems), file=sys.stderr)
        return 1
    print(f"loaded in {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
