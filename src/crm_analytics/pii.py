"""Keyed hashes of personal data, so BI can join or count on an email
without seeing it.

The serving file carries no names, emails, phones, street addresses or birth
dates. Where BI needs to link a customer to another system by email it gets
``email_hash``: HMAC-SHA256 of the normalised email under a secret key read
from the environment variable ``CRM_PII_HASH_KEY`` (never from the
repository, never written to dbt's artifacts). Without the key nobody can
test a guessed email against the hash, which a plain sha256 would allow.

Free text (comments, product names, quarantine details) is masked in the
models by the macro ``mask_pii``; ``EMAIL_PATTERN`` and ``PHONE_PATTERN``
are the patterns of ``macros/pii_patterns.sql`` (a test keeps them equal),
and ``find_pii`` scans tables with them before a publish.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

HASH_KEY_ENV = "CRM_PII_HASH_KEY"
MIN_KEY_LENGTH = 32


class HashKeyError(ValueError):
    """The hash key is missing or too short."""


def hash_key(environ: dict[str, str] | None = None) -> bytes:
    """The secret key from ``CRM_PII_HASH_KEY``; raises HashKeyError with
    what to do when it is unset or shorter than 32 characters."""
    value = (os.environ if environ is None else environ).get(HASH_KEY_ENV, "")
    if len(value) < MIN_KEY_LENGTH:
        state = "is not set" if not value else f"has {len(value)} characters"
        raise HashKeyError(
            f"{HASH_KEY_ENV} {state}: set it to a secret of at least "
            f"{MIN_KEY_LENGTH} characters, e.g. "
            f'export {HASH_KEY_ENV}="$(python -c '
            "'import secrets; print(secrets.token_hex(32))')\" "
            "(make demo and make build create one in warehouse/.pii_hash_key)"
        )
    return value.encode()


def keyed_hash(value: object, key: bytes) -> str | None:
    """Hex HMAC-SHA256 of ``value`` under ``key``; None for a missing value
    (None, NaN, '')."""
    if not isinstance(value, str) or not value:
        return None
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def keyed_hashes(values: Iterable[object], key: bytes) -> list[str | None]:
    """``keyed_hash`` of each value."""
    return [keyed_hash(value, key) for value in values]


EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
"""An email address anywhere in a text (RE2 and Python re alike)."""

PHONE_PATTERN = r"(\+|\b)[0-9]([ ().-]{0,2}[0-9]){7,14}\b"
"""A phone number anywhere in a text: 8-15 digits standing alone,
optionally after a +, with at most two of ' ().-' between digits."""

ISO_DATE_PATTERN = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
"""ISO dates, which PHONE_PATTERN would take for phones: left alone."""

KEY_PHONE_PATTERN = r"^(\+[0-9]|\([0-9]|[0-9][0-9().-]*[ (])[0-9 ().-]*[0-9]$"
"""A key written as people write phones (a +, a space or a parenthesis);
a key matching it and PHONE_PATTERN over its whole value is a phone."""

WHOLE_PHONE_PATTERN = r"^\(?" + PHONE_PATTERN + "$"
"""A text that is a phone number and nothing else."""

IDENTIFIER_SUFFIXES = ("_id", "_key")
"""Columns named so hold source keys, where a long digit run is an order
or account number, not a phone: there the scan looks for emails and for
whole values written as phones (KEY_PHONE_PATTERN)."""


@dataclass(frozen=True)
class PiiFinding:
    """A published text column holding values that look like personal data."""

    table: str
    column: str
    kind: str
    count: int

    def __str__(self) -> str:
        return (
            f"{self.table}.{self.column}: {self.count:,} values look like {self.kind}"
        )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


SCAN_SAMPLE_ROWS = 10_000
"""How many of a column's first rows decide how it is scanned."""


def _repetitive(
    connection: duckdb.DuckDBPyConnection, relation: str, value: str
) -> bool:
    """Whether a column's first SCAN_SAMPLE_ROWS rows hold each value twice
    or more on average: then its text is matched once per distinct value.
    A status or a segment name repeats; a comment does not, and grouping it
    would cost more than it saves. Either way every row is counted: this
    only chooses the faster plan."""
    distinct, sampled = connection.execute(
        f"select count(distinct v), count(*) from "
        f"(select {value} as v from {relation} limit {SCAN_SAMPLE_ROWS})"
    ).fetchone()
    return sampled > 0 and distinct * 2 <= sampled


def _pii_checks(value: str, is_key: bool) -> dict[str, str]:
    """The SQL conditions, by kind, under which ``value`` looks like personal
    data. A pattern runs only on values holding a character every match
    needs (CASE evaluates its branch only for the rows that reach it): an
    email's @, and a key's +, ( or space."""
    email = (
        f"case when contains({value}, '@') "
        f"then regexp_matches({value}, {_literal(EMAIL_PATTERN)}) else false end"
    )
    if is_key:
        phone = (
            f"case when contains({value}, '+') or contains({value}, '(') "
            f"or contains({value}, ' ') "
            f"then regexp_matches({value}, {_literal(KEY_PHONE_PATTERN)}) "
            f"and regexp_matches({value}, {_literal(WHOLE_PHONE_PATTERN)}) "
            "else false end"
        )
    else:
        phone = (
            f"regexp_matches(regexp_replace({value}, "
            f"{_literal(ISO_DATE_PATTERN)}, '', 'g'), {_literal(PHONE_PATTERN)})"
        )
    return {"an email": email, "a phone number": phone}


def find_pii(
    connection: duckdb.DuckDBPyConnection, database: str, schemas: Iterable[str]
) -> list[PiiFinding]:
    """Every text column (varchar, or a list of them) of ``schemas`` in the
    attached ``database`` whose values match EMAIL_PATTERN, or
    PHONE_PATTERN once ISO dates are removed (in identifier columns: the
    whole value written as a phone, KEY_PHONE_PATTERN),
    with how many values match. The mask tokens ([email], [phone], [name])
    and hex hashes match neither. DuckDB matches a pattern row by row, even
    in a column of three statuses; a column whose values repeat is matched
    once per distinct value and counted by its rows (at 100,000 customers
    the scan of the marts took 10.1 s row by row)."""
    schema_list = ", ".join(_literal(schema) for schema in schemas)
    columns = connection.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        f"where database_name = {_literal(database)} "
        f"and schema_name in ({schema_list}) "
        "and data_type like 'VARCHAR%' order by 1, 2, column_index"
    ).fetchall()
    findings = []
    for schema, table, column in columns:
        relation = f"{_quote(database)}.{_quote(schema)}.{_quote(table)}"
        value = f"cast({_quote(column)} as varchar)"
        is_key = column.endswith(IDENTIFIER_SUFFIXES)
        if not is_key and _repetitive(connection, relation, value):
            # once per distinct value, weighted by its rows
            source = f"(select {value} as v, count(*) as n from {relation} group by 1)"
            value, rows = "v", "n"
        else:
            source, rows = relation, "1"
        checks = _pii_checks(value, is_key)
        counts = connection.execute(
            "select "
            + ", ".join(
                f"coalesce(sum({rows}) filter (where {check}), 0)"
                for check in checks.values()
            )
            + f" from {source}"
        ).fetchone()
        findings += [
            PiiFinding(f"{schema}.{table}", column, kind, count)
            for kind, count in zip(checks, counts, strict=True)
            if count
        ]
    return findings
