"""The dbt profile: DuckDB settings that can be set only once per database
are given when dbt opens the file, not on every cursor."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from crm_analytics.contract import PROJECT_DIR


def test_duckdb_refuses_to_set_the_temp_directory_again_after_a_spill(
    tmp_path: Path,
) -> None:
    # What dbt-duckdb's `settings` do: SET on every new cursor. After the
    # first spill (a raw load bigger than memory_limit) every later model
    # failed with this error.
    # (Rows per MB of memory limit as in the 100 MB / 3,000,000 rows this
    # test had: a spill all the same, in about half the time.)
    temp = tmp_path / "spill"
    connection = duckdb.connect(
        str(tmp_path / "x.duckdb"),
        config={"memory_limit": "50MB", "temp_directory": str(temp), "threads": 2},
    )
    connection.execute(
        "create table t as select i, md5(i::varchar) as h "
        "from range(1500000) r(i) order by h"
    )
    # DuckDB makes the directory on the first spill
    assert temp.is_dir(), "no spill: the case is not tested"
    cursor = connection.cursor()
    try:
        cursor.execute(f"set temp_directory = '{temp}'")
    except duckdb.NotImplementedException as error:
        assert "Cannot switch temporary directory" in str(error)
    else:  # a DuckDB that allows it would make the profile's care unneeded
        raise AssertionError("DuckDB now allows setting temp_directory again")
    # a cursor that sets nothing keeps the connection's settings
    assert cursor.execute("select current_setting('temp_directory')").fetchone() == (
        str(temp),
    )


def test_profile_sets_duckdb_options_once_per_connection() -> None:
    profile = yaml.safe_load((PROJECT_DIR / "profiles" / "profiles.yml").read_text())
    dev = profile["crm_analytics"]["outputs"]["dev"]
    # per-cursor settings: only the session's time zone, which DuckDB
    # accepts again on every cursor (and only after ICU has loaded)
    assert dev.get("settings", {}) == {"TimeZone": "UTC"}
    assert {"temp_directory", "memory_limit", "threads"} <= set(dev["config_options"])
