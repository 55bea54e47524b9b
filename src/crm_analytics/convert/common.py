"""What the three importers share: the report of what was mapped and dropped,
value formatting for the raw contract, and the writer.

Every importer turns a source layout into raw contract files (see
docs/raw_data_contract.md): CSV with a header, only contract columns,
timestamps as ISO 8601 UTC ``YYYY-MM-DD HH:MM:SS`` so that the contract's
parser never has to guess a date order, money as plain decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from crm_analytics.contract import load_contract

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def contract_columns() -> dict[str, list[str]]:
    """Column names of every raw table, in contract order."""
    return {
        table.name: [column.name for column in table.columns]
        for table in load_contract()
    }


@dataclass
class Report:
    """What an importer did: rows in and out, columns mapped and dropped, and
    every dropped row with its reason (and the money it carried)."""

    layout: str
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    mapped: list[tuple[str, str, str]] = field(default_factory=list)
    dropped_columns: list[tuple[str, str]] = field(default_factory=list)
    dropped_rows: list[tuple[str, str, int, Decimal | None]] = field(
        default_factory=list
    )
    notes: list[str] = field(default_factory=list)

    def map(self, source: str, target: str, how: str = "") -> None:
        """Record that source column ``source`` became ``target``."""
        self.mapped.append((source, target, how))

    def drop_column(self, source: str, why: str) -> None:
        self.dropped_columns.append((source, why))

    def drop_rows(
        self, what: str, why: str, count: int, amount: Decimal | float | None = None
    ) -> None:
        """Record ``count`` source rows of ``what`` dropped for ``why``."""
        if count:
            value = None if amount is None else Decimal(str(amount))
            self.dropped_rows.append((what, why, int(count), value))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        """The report as plain text, for the terminal."""
        lines = [f"Converted a {self.layout} export."]
        lines.append("")
        lines.append("Rows read:")
        lines += [f"  {name}: {count:,}" for name, count in self.rows_read.items()]
        lines.append("Rows written:")
        lines += [f"  {name}: {count:,}" for name, count in self.rows_written.items()]
        lines.append("Mapped:")
        for source, target, how in self.mapped:
            lines.append(f"  {source} -> {target}" + (f"  ({how})" if how else ""))
        if self.dropped_columns:
            lines.append("Columns not written:")
            lines += [f"  {source}: {why}" for source, why in self.dropped_columns]
        lines.append("Rows dropped:")
        if not self.dropped_rows:
            lines.append("  none")
        for what, why, count, amount in self.dropped_rows:
            money = "" if amount is None else f", amount {amount:,.2f}"
            lines.append(f"  {what}: {count:,} ({why}{money})")
        if self.notes:
            lines.append("Notes:")
            lines += [f"  {text}" for text in self.notes]
        return "\n".join(lines) + "\n"


def clean_text(value: object) -> str:
    """Text of a cell with surrounding spaces removed; empty for nulls."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).strip()


def strip_apostrophe(value: object) -> str:
    """Spreadsheet exports prefix zips and phones with ``'`` so that leading
    zeros survive (Shopify: ``'02134``); the apostrophe is not data."""
    text = clean_text(value)
    return text[1:].strip() if text.startswith("'") else text


_PLAIN_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def to_decimal(value: object) -> Decimal | None:
    """A money or quantity cell as Decimal; None when empty.

    Accepts numbers and plain decimal text (a thousands comma is dropped);
    raises ValueError for anything else rather than guessing.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if pd.isna(value):
            return None
        # repr gives the shortest text that round-trips: 2.55, not 2.5499999.
        return (
            Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
        )
    text = clean_text(value).replace(",", "")
    if not text:
        return None
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"not a plain decimal: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise ValueError(f"not a plain decimal: {value!r}") from exc


def format_decimal(value: Decimal | None, places: int = 2) -> str:
    """``value`` rounded half up to ``places`` decimals, without exponent;
    empty for None."""
    if value is None:
        return ""
    quantum = Decimal(1).scaleb(-places)
    return format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def to_utc_text(values: pd.Series, timezone: str = "UTC") -> pd.Series:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` UTC text (empty for nulls).

    ``values`` is a datetime series: tz-aware values are converted to UTC;
    naive ones are wall-clock times in ``timezone`` (an IANA name), localised
    (an ambiguous hour at the autumn change reads as standard time, a
    nonexistent one at the spring change shifts forward) and converted.
    """
    series = pd.to_datetime(values)
    if series.dt.tz is None:
        if timezone != "UTC":
            series = series.dt.tz_localize(
                timezone, ambiguous=False, nonexistent="shift_forward"
            )
        else:
            series = series.dt.tz_localize("UTC")
    series = series.dt.tz_convert("UTC")
    text = series.dt.strftime(TIMESTAMP_FORMAT)
    return text.where(series.notna(), "")


def parse_offset_timestamps(values: pd.Series) -> pd.Series:
    """Text timestamps with a UTC offset or ``Z`` (Shopify:
    ``2024-03-05 10:11:12 -0500``; ISO 8601 ``2024-03-05T10:11:12+01:00``) as
    UTC datetimes; empty text gives NaT; a value of another form raises."""
    text = values.map(clean_text)
    parsed = pd.to_datetime(
        text.where(text != ""), utc=True, format="ISO8601", errors="coerce"
    )
    bad = parsed.isna() & (text != "")
    if bad.any():
        raise ValueError(f"unreadable timestamps, e.g. {text[bad].iloc[0]!r}")
    return parsed


def write_table(
    frame: pd.DataFrame, out_dir: Path, table: str, report: Report | None = None
) -> Path:
    """Write ``frame`` as ``<out_dir>/<table>.csv``: a header and only the
    contract's columns (in contract order), every value as text, empty for
    missing. A column that is not in the contract is an error, not a silent
    extra: the importers say what they map."""
    allowed = contract_columns()
    if table not in allowed:
        raise ValueError(f"{table!r} is not a raw contract table")
    unknown = [name for name in frame.columns if name not in allowed[table]]
    if unknown:
        raise ValueError(f"{table}: not contract columns: {unknown}")
    ordered = [name for name in allowed[table] if name in frame.columns]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{table}.csv"
    text = frame[ordered].astype(object).where(frame[ordered].notna(), "")
    text.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    if report is not None:
        report.rows_written[table] = len(frame)
    return path
