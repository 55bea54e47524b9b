"""Vectorised text rendering of ids, timestamps, dates, money and integers.

Every function turns a numpy array into a :class:`pyarrow.StringArray` without
a Python-level loop over rows. Timestamps are int64 seconds since the Unix
epoch (UTC), dates int32 days since the epoch, money int64 cents. A value is
rendered as null (an empty CSV field) where ``valid`` is False.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Alternative timestamp spellings injected as `timestamp_format` defects.
TIMESTAMP_STYLES: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
#: Alternative date spellings injected as `date_format` defects.
DATE_STYLES: tuple[str, ...] = ("%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")


def _mask(valid: np.ndarray | None) -> np.ndarray | None:
    """Arrow's null mask is the inverse of ``valid``."""
    return None if valid is None else ~np.asarray(valid, dtype=bool)


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and scalars element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def ids(prefix: str, numbers: np.ndarray, width: int, valid=None) -> pa.Array:
    """Render integer keys as ``<prefix><zero-padded number>``, e.g. A0000042."""
    digits = pa.array(np.asarray(numbers, dtype=np.int64), mask=_mask(valid))
    padded = pc.utf8_lpad(digits.cast(pa.string()), width=width, padding="0")
    return join(prefix, padded)


def id_width(count: int, minimum: int = 7) -> int:
    """Key width for ``count`` keys: one spare digit, at least ``minimum``.

    The spare digit leaves the range ``9xxx...`` free for keys that exist
    nowhere (the ``unknown_customer`` / ``unknown_order`` defects).
    """
    return max(minimum, len(str(max(count, 1))) + 1)


def unknown_numbers(width: int, size: int, rng) -> np.ndarray:
    """Key numbers of ``width`` digits that no real record uses."""
    low = 9 * 10 ** (width - 1)
    return rng.integers(low, 10**width, size)


def timestamps(seconds: np.ndarray, valid=None) -> pa.Array:
    """Render epoch seconds as ``YYYY-MM-DD HH:MM:SS`` (the canonical form)."""
    arr = pa.array(np.asarray(seconds, dtype=np.int64), mask=_mask(valid))
    return arr.cast(pa.timestamp("s")).cast(pa.string())


def timestamps_styled(seconds: np.ndarray, style: str) -> pa.Array:
    """Render epoch seconds with a strftime ``style`` (for small subsets)."""
    arr = pa.array(np.asarray(seconds, dtype=np.int64)).cast(pa.timestamp("s"))
    return pc.strftime(arr, format=style)


def dates(days: np.ndarray, valid=None) -> pa.Array:
    """Render epoch days as ``YYYY-MM-DD``."""
    arr = pa.array(np.asarray(days, dtype=np.int32), mask=_mask(valid))
    return arr.cast(pa.date32()).cast(pa.string())


def dates_styled(days: np.ndarray, style: str) -> pa.Array:
    """Render epoch days with a strftime ``style`` (for small subsets)."""
    arr = pa.array(np.asarray(days, dtype=np.int32)).cast(pa.date32())
    return pc.strftime(arr, format=style)


def money(cents: np.ndarray, valid=None) -> pa.Array:
    """Render integer cents as a decimal with two places, e.g. ``-12.05``."""
    cents = np.asarray(cents, dtype=np.int64)
    absolute = np.abs(cents)
    whole = pa.array(absolute // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(absolute % 100).cast(pa.string()), 2, "0")
    sign = pa.array(np.where(cents < 0, "-", ""))
    out = join(sign, whole, ".", frac)
    if valid is not None:
        out = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), out, None)
    return out


def integers(values: np.ndarray, valid=None) -> pa.Array:
    """Render integers as decimal text."""
    arr = pa.array(np.asarray(values, dtype=np.int64), mask=_mask(valid))
    return arr.cast(pa.string())


def labels(choices: tuple[str, ...] | list[str], codes: np.ndarray, valid=None):
    """Look up ``codes`` in a small list of labels."""
    arr = pa.array(list(choices), type=pa.string())
    out = arr.take(pa.array(np.asarray(codes, dtype=np.int64)))
    if valid is not None:
        out = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), out, None)
    return out


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Render non-negative integers zero-padded to ``width`` digits."""
    arr = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    return pc.utf8_lpad(arr, width=width, padding="0")
