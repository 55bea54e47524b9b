"""crm_analytics.frames: read_frame gives the frame relation.df() gives, and
an Arrow table of a model's result is written with the column types its
frame would be."""

import datetime as dt
import decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_analytics.frames import as_arrow, read_frame

# every column type the project's tables hold, with and without nulls
TYPED_ROWS = """
select * from (values
    ('a', null, null, 1, null, 2::integer, 3::hugeint, 1.25::decimal(18, 2),
     2.5::decimal(38, 4), 0.5::double, true, null::boolean,
     date '2025-01-31', null::date, timestamp '2025-01-31 12:00:00',
     ['x', 'y'], 7::tinyint),
    (null, null, 'b', null, 5, null, null, null, null, null, false, true,
     null, date '1970-01-01', null, null, null)
) as t(
    text, text_all_null, text_some_null, big, big_some_null, int, huge, dec,
    wide_dec, dbl, flag, flag_some_null, day, day_some_null, stamp, list,
    tiny
)
"""


@pytest.fixture
def connection():
    with duckdb.connect() as connection:
        yield connection


def test_read_frame_is_df_for_every_column_type(connection):
    relation = connection.sql(TYPED_ROWS)
    pd.testing.assert_frame_equal(read_frame(relation), relation.df())


def test_read_frame_of_no_rows_is_df(connection):
    relation = connection.sql(TYPED_ROWS).filter("false")
    pd.testing.assert_frame_equal(read_frame(relation), relation.df())


def test_read_frame_of_text_only_is_df(connection):
    relation = connection.sql("select 'a' as x, 'b' as y union all select null, 'c'")
    frame = read_frame(relation)
    pd.testing.assert_frame_equal(frame, relation.df())
    assert frame["x"].tolist()[0] == "a" and pd.isna(frame["x"].tolist()[1])


def test_read_frame_keeps_the_zone_of_the_relations_connection(connection):
    # The build's connection runs in UTC whatever the machine's zone; a zone
    # no test machine has makes the two differ here.
    connection.execute("set TimeZone = 'Asia/Kathmandu'")
    relation = connection.sql(
        "select timestamptz '2025-03-30 01:30:00+00' as stamp, 'a' as text "
        "union all select null, null"
    )
    frame = read_frame(relation)
    pd.testing.assert_frame_equal(frame, relation.df())
    assert str(frame["stamp"].dtype) == "datetime64[us, Asia/Kathmandu]"


def _column_types(connection, table: str) -> list[tuple[str, str]]:
    return connection.sql(
        "select column_name, data_type from information_schema.columns "
        f"where table_name = '{table}' order by ordinal_position"
    ).fetchall()


def test_as_arrow_writes_the_frames_column_types_and_values(connection):
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None], dtype="str"),
            "text_object": pd.Series(["a", None], dtype=object),
            "text_string": pd.array(["a", None], dtype="string"),
            "big": np.array([1, 2], dtype="int64"),
            "nullable": pd.array([1, None], dtype="Int64"),
            "small": pd.array([1, None], dtype="Int32"),
            "dbl": [0.5, np.nan],
            "flag": [True, False],
            "stamp": pd.to_datetime(["2025-01-31", None]).astype("datetime64[us]"),
            "day": pd.Series([dt.date(2025, 1, 31), None], dtype=object),
            "amount": pd.Series([decimal.Decimal("1.25"), None], dtype=object),
        }
    )
    connection.register("as_frame", frame)
    connection.execute("create table from_frame as select * from as_frame")
    connection.register("as_table", as_arrow(frame))
    connection.execute("create table from_arrow as select * from as_table")
    assert _column_types(connection, "from_arrow") == _column_types(
        connection, "from_frame"
    )
    differing = connection.sql(
        "(select * from from_frame except all select * from from_arrow) "
        "union all (select * from from_arrow except all select * from from_frame)"
    ).fetchall()
    assert differing == []
