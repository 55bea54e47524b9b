"""Moving tables between DuckDB and pandas in the dbt Python models, fast
for text.

With pandas 3, text columns are Arrow-backed strings. DuckDB 1.5's
``relation.df()``, and its scan of a frame a model returns, are slow on
them; through Arrow they move as buffers. Measured on a one-day build
file at 1M customers, one DuckDB thread, nothing else running:

- ``int_customer_records_standardised``, 1.5M rows, 22 columns: ``df()``
  8.3 s, :func:`read_frame` 1.0 s;
- ``int_customer_product_purchases``, 12.1M rows, 12 columns: 14.2 s,
  4.5 s;
- writing ``fct_customer_recommendations``, 7.1M rows: the frame 15.9 s,
  :func:`as_arrow` of it 6.4 s.

:func:`read_frame` gives the same frame as ``df()``, column for column and
dtype for dtype (tests/python/test_frames.py compares them on every column
type the project writes): only the text columns come through Arrow; the
others go through ``df()`` of the Arrow table, so DuckDB converts them
(dates, decimals, integers with nulls) as it always did.
"""

from __future__ import annotations

import threading

import duckdb
import pandas as pd
import pyarrow as pa

_TEXT_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB of this thread (dbt runs two Python models at
    once in two threads, and a connection is not shared between threads)."""
    if not hasattr(_local, "connection"):
        _local.connection = duckdb.connect()
    return _local.connection


def _through_arrow(table: pa.Table, name: str) -> bool:
    """Whether column ``name`` goes to pandas through Arrow: text (but a
    column of nothing but nulls comes from df() as object, so it is left
    to it), and timestamps with a time zone, which Arrow carries in the
    zone of the connection that ran the relation (the build's is UTC; the
    in-memory connection's would be the machine's)."""
    column = table.column(name)
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        return True
    return (
        any(is_text(column.type) for is_text in _TEXT_TYPES)
        and column.null_count < table.num_rows
    )


def read_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """``relation.df()``, the same frame, with its text columns (and zoned
    timestamps) read through Arrow. The relation runs once."""
    table = relation.to_arrow_table()
    arrow = {name for name in table.column_names if _through_arrow(table, name)}
    others = [name for name in table.column_names if name not in arrow]
    converted = (
        _connection().from_arrow(table.select(others)).df()
        if others
        else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    )
    return pd.DataFrame(
        {
            name: table.column(name).to_pandas() if name in arrow else converted[name]
            for name in table.column_names
        }
    )


def as_arrow(frame: pd.DataFrame) -> pa.Table:
    """A model's result as an Arrow table, which dbt-duckdb writes as it
    writes a frame, with the same column types, and faster when it has
    text."""
    return pa.Table.from_pandas(frame, preserve_index=False)
