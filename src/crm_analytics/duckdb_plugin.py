"""The project's dbt-duckdb plugin (profiles/profiles.yml).

When ``dbt build`` (or run, seed, test) opens the build file, it loads the
raw files into schema ``raw`` with :func:`crm_analytics.ingest.ingest`,
before any hook or model runs, on the connection dbt itself uses (DuckDB
allows one writer per file). Only what is new is read. The problems it
finds are left in ``raw._load_problems``, which the on-run-start hook
``load_raw_files`` reports as one message and stops on. It does not load
when the settings are bad (the hook names them) or the raw directory holds
no file.
"""

from __future__ import annotations

import re
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

LOADING_COMMANDS = ("build", "run", "seed", "test")


def dbt_log(message: str) -> None:
    """One info line in dbt's output (and logs/dbt.log)."""
    from dbt.events.types import JinjaLogInfo
    from dbt_common.events.functions import fire_event

    fire_event(JinjaLogInfo(msg=message))


def _loading_run() -> tuple[bool, bool, dict]:
    """(whether this dbt command loads the raw files, --full-refresh, the
    --vars mapping)."""
    try:
        from dbt.flags import get_flags

        flags = get_flags()
    except Exception:  # noqa: BLE001 - not inside a dbt command
        return False, False, {}
    which = getattr(flags, "WHICH", None)
    return (
        which in LOADING_COMMANDS,
        bool(getattr(flags, "FULL_REFRESH", False)),
        dict(getattr(flags, "VARS", None) or {}),
    )


def load_raw(conn: DuckDBPyConnection) -> None:
    """Load the raw files when this is a loading dbt command and the
    settings allow it (see the module's doc)."""
    from crm_analytics.ingest import ingest
    from crm_analytics.settings import check_vars, environment_value

    loading, full_refresh, dbt_vars = _loading_run()
    if not loading or check_vars(dbt_vars):
        return
    raw_dir = str(environment_value("CRM_RAW_DIR")).rstrip("/")
    path = Path(raw_dir)
    if (
        not raw_dir.strip()
        or re.search(r"[*?\[\]]", raw_dir)
        or not path.is_dir()
        or not any(path.iterdir())
    ):
        return
    result = ingest(conn, path, full_refresh=full_refresh, log=dbt_log)
    dbt_log(f"raw files loaded in {result.seconds:.1f} s")


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        load_raw(conn)
