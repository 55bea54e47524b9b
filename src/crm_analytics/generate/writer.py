"""Write raw tables (CSV or Parquet) and truth files (always CSV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS: tuple[str, ...] = ("csv", "parquet")


def _as_text(table: pa.Table) -> pa.Table:
    """Every column as strings, with empty strings turned into nulls."""
    columns = []
    for col in table.columns:
        col = col.cast(pa.string())
        columns.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
    return pa.table(columns, names=table.column_names)


_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[[ord(","), ord('"'), ord("\n"), ord("\r")]] = True


def _needs_quotes(table: pa.Table) -> bool:
    """True if any value holds a comma, double quote or line break.

    Scans the raw character buffers of the string columns (fast; a false
    positive only means more quoting).
    """
    for col in table.columns:
        for chunk in col.chunks:
            data = chunk.buffers()[2]
            if data is not None and _SPECIAL[np.frombuffer(data, np.uint8)].any():
                return True
    return False


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write ``table`` as UTF-8 CSV with a header and nulls as empty fields.

    Files where some value holds a comma, quote or line break have every
    text value quoted (RFC 4180); the others are written without quotes,
    which keeps the big event files small. Spaces are data either way.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _as_text(table)
    style = "needed" if _needs_quotes(table) else "none"
    options = pacsv.WriteOptions(
        include_header=True, quoting_style=style, batch_size=65_536
    )
    pacsv.write_csv(table, path, write_options=options)
    return path


def write_raw(table: pa.Table, raw_dir: Path, name: str, file_format: str) -> Path:
    """Write one raw table as ``<raw_dir>/<name>.<csv|parquet>``."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}")
    if file_format == "csv":
        return write_csv(table, raw_dir / f"{name}.csv")
    path = raw_dir / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_as_text(table), path, compression="zstd")
    return path
