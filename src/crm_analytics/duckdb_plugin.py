"""A dbt-duckdb plugin (profiles/profiles.yml) that gives the raw loader
what DuckDB's SQL cannot tell: whether a path is a symbolic link.

``crm_is_symlink(path)`` is true for a symbolic link, false otherwise (a
path that does not exist included). ``load_raw_table`` refuses a raw file,
or a load-batch folder, that is a link: a link can point anywhere outside
the raw directory (``/etc/passwd``), and the loader reads only what is in
it. The raw directory itself may be a link.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import BOOLEAN, VARCHAR


def is_symlink(path: str | None) -> bool:
    """True when ``path`` is a symbolic link (a dangling one included)."""
    return path is not None and os.path.islink(path)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function(
            "crm_is_symlink", is_symlink, [VARCHAR], BOOLEAN, side_effects=False
        )
