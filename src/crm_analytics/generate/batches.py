"""Daily load batches: move the last days of the generated append-mostly
tables into ``<raw>/<table>/<YYYY-MM-DD>.<format>`` files, as a daily export
would deliver them, including late and updated rows.

For each of the last ``days`` days the batch holds that day's orders (with
their lines), web events and email events, except a share of orders that
arrive one day late (in the next batch); plus updated versions of a few
earlier completed orders (status ``returned``, ``updated_at`` on the batch
day), which must replace the version loaded before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from crm_analytics.generate.formats import TIMESTAMP_STYLES
from crm_analytics.generate.writer import write_raw

# Batched table -> its event time column. Order lines follow their order.
BATCHED = {
    "orders": "ordered_at",
    "web_events": "occurred_at",
    "email_events": "occurred_at",
}
LATE_SHARE = 0.05
UPDATED_PER_DAY = 0.002


def _read(raw_dir: Path, table: str) -> tuple[pd.DataFrame, str] | None:
    for file_format in ("csv", "parquet"):
        path = raw_dir / f"{table}.{file_format}"
        if path.exists():
            if file_format == "csv":
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            else:
                frame = pd.read_parquet(path).fillna("").astype(str)
            return frame, file_format
    return None


def _write(frame: pd.DataFrame, raw_dir: Path, name: str, file_format: str) -> None:
    write_raw(
        pa.Table.from_pandas(frame, preserve_index=False), raw_dir, name, file_format
    )


CANONICAL_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def _day(values: pd.Series) -> pd.Series:
    """Calendar day of timestamp text in the spellings the generator writes
    (:data:`CANONICAL_TIMESTAMP` and the defect styles of
    :data:`~crm_analytics.generate.formats.TIMESTAMP_STYLES`), each read
    with its exact format; NaT when none fits. Guessing the format per
    value (``format="mixed", dayfirst=True``) read 2025-06-05 as 5 June's
    mirror, 6 May, and parsed one value at a time."""
    text = values.astype(str).str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    for style in (CANONICAL_TIMESTAMP, *TIMESTAMP_STYLES):
        missing = parsed.isna().to_numpy()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], format=style, errors="coerce")
    return parsed.dt.normalize()


def split_daily_batches(
    raw_dir: Path, days: int, end: str, seed: int
) -> dict[str, int]:
    """Move the last ``days`` days up to ``end`` of orders, order lines, web
    and email events from ``<raw_dir>/<table>.<fmt>`` into daily batch files;
    returns the rows written to batches per table."""
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = np.random.default_rng(seed + 7_919)
    batch_days = pd.date_range(end=pd.Timestamp(end), periods=days, freq="D")
    first = batch_days[0]
    moved: dict[str, int] = {}

    loaded = _read(raw_dir, "orders")
    if loaded is not None:
        orders, file_format = loaded
        day = _day(orders["ordered_at"])
        # planted future timestamps stay in the base file with the unreadable
        in_batch = (day >= first) & (day <= batch_days[-1])
        late = (
            in_batch & (rng.random(len(orders)) < LATE_SHARE) & (day < batch_days[-1])
        )
        batch_of = day.where(~late, day + pd.Timedelta(days=1))
        base = orders[~in_batch]
        completed = base.index[base["status"].str.strip().str.lower() == "completed"]
        per_day = max(1, int(len(base) * UPDATED_PER_DAY))
        updates = []
        for batch_day in batch_days:
            picked = rng.choice(
                completed, size=min(per_day, len(completed)), replace=False
            )
            update = orders.loc[picked].copy()
            update["status"] = "returned"
            update["updated_at"] = f"{batch_day:%Y-%m-%d} 10:00:00"
            updates.append((batch_day, update))
        lines_loaded = _read(raw_dir, "order_lines")
        lines = lines_loaded[0] if lines_loaded else None
        line_batch = None
        if lines is not None:
            order_batch = pd.Series(
                batch_of[in_batch].to_numpy(),
                index=orders.loc[in_batch, "order_id"].str.strip(),
            )
            order_batch = order_batch[~order_batch.index.duplicated()]
            line_batch = lines["order_id"].str.strip().map(order_batch)
        _write(base, raw_dir, "orders", file_format)
        moved["orders"] = 0
        for batch_day, update in updates:
            frame = pd.concat([orders[in_batch & (batch_of == batch_day)], update])
            _write(frame, raw_dir, f"orders/{batch_day:%Y-%m-%d}", file_format)
            moved["orders"] += len(frame)
        if lines is not None:
            _write(lines[line_batch.isna()], raw_dir, "order_lines", file_format)
            moved["order_lines"] = 0
            for batch_day in batch_days:
                frame = lines[line_batch == batch_day]
                _write(frame, raw_dir, f"order_lines/{batch_day:%Y-%m-%d}", file_format)
                moved["order_lines"] += len(frame)

    for table in ("web_events", "email_events"):
        loaded = _read(raw_dir, table)
        if loaded is None:
            continue
        events, file_format = loaded
        day = _day(events[BATCHED[table]])
        in_batch = (day >= first) & (day <= batch_days[-1])
        _write(events[~in_batch], raw_dir, table, file_format)
        moved[table] = 0
        for batch_day in batch_days:
            frame = events[day == batch_day]
            _write(frame, raw_dir, f"{table}/{batch_day:%Y-%m-%d}", file_format)
            moved[table] += len(frame)
    return moved
