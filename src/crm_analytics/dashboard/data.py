"""Read-only access to the serving file for the dashboard.

Every query opens its own connection and closes it before returning, so the
dashboard never holds the serving file between reruns and never stands in the
way of a publish. Connections are read-only, cannot read or write any other
file (``enable_external_access = false``), read time in UTC (``TimeZone``,
as the build does; the marts hold no zoned type, so this is a guard) and
cannot change those settings (``lock_configuration = true``, set last).
Filter values always travel as query parameters, never spliced into SQL
text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import ENV_SETTINGS

DEFAULT_SERVING = PROJECT_DIR / str(ENV_SETTINGS["CRM_SERVING_PATH"].default)

#: The connection settings of every dashboard query (and of the documented
#: Python connection): read-only, no other files. TimeZone cannot be a
#: connection option (DuckDB loads ICU later), so :func:`connect` sets it and
#: then locks the configuration.
READ_ONLY_CONFIG = {
    "access_mode": "READ_ONLY",
    "enable_external_access": False,
}


class ServingFileMissing(FileNotFoundError):
    """The serving file has not been published yet."""


def serving_path() -> Path:
    """The serving file: ``CRM_SERVING_PATH`` or ``warehouse/crm.duckdb``."""
    return Path(os.environ.get("CRM_SERVING_PATH", DEFAULT_SERVING)).resolve()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A locked-down read-only connection to ``path``."""
    if not path.is_file():
        raise ServingFileMissing(
            f"No serving file at {path}. Build and publish it first with "
            "`make build` (or `make demo` for the demo data), or point "
            "CRM_SERVING_PATH at a published warehouse."
        )
    connection = duckdb.connect(str(path), config=dict(READ_ONLY_CONFIG))
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set lock_configuration = true")
    return connection


def file_version(path: Path) -> tuple[int, int]:
    """Changes whenever a publish replaces the file (new inode, new mtime):
    part of every cache key, so a new publish is seen at the next rerun."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def query(path: Path, sql: str, parameters: list | None = None) -> pd.DataFrame:
    """Run one query on a fresh connection; the connection is closed on return."""
    with connect(path) as connection:
        return connection.execute(sql, parameters or []).df()


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices. Empty tuples mean "all"."""

    start: date
    end: date
    segments: tuple[str, ...] = field(default_factory=tuple)
    countries: tuple[str, ...] = field(default_factory=tuple)

    def customer_filter(self, alias: str = "customers") -> tuple[str, list]:
        """A SQL predicate on ``marts.dim_customers`` (as ``alias``) for the
        segment and country choices, and its parameters."""
        clauses, parameters = ["true"], []
        if self.segments:
            clauses.append(
                f"coalesce({alias}.segment_name, 'non-buyer') in (select unnest(?))"
            )
            parameters.append(list(self.segments))
        if self.countries:
            clauses.append(
                f"coalesce({alias}.country_code, 'unknown') in (select unnest(?))"
            )
            parameters.append(list(self.countries))
        return " and ".join(clauses), parameters

    @property
    def is_customer_subset(self) -> bool:
        return bool(self.segments or self.countries)
