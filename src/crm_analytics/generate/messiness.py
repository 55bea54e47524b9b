"""Defect bookkeeping: raw tables as text columns plus a defect label per row.

A :class:`RawTable` holds the contract columns as Arrow string arrays and,
per row, at most one *exclusive* defect (one that makes the row merged or
quarantined) and a bit set of *cosmetic* defects (formats and variants that
a correct pipeline keeps). Row operations (value replacement, appended
copies, the final ordering) keep the labels aligned with the rows, so the
truth file ``defects.csv`` can name the final 1-based row numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class DefectKind:
    """One kind of planted defect and what a correct pipeline does with it."""

    kind: str
    status: str  # kept | merged | quarantined
    reason: str  # empty for kept
    description: str


#: Defects that merge or quarantine a row (at most one per row).
EXCLUSIVE_KINDS: tuple[DefectKind, ...] = (
    DefectKind("exact_duplicate", "merged", "duplicate", "Row repeated verbatim."),
    DefectKind(
        "conflicting_duplicate",
        "merged",
        "duplicate",
        "Same key twice with different values; the row with the older "
        "updated_at is listed (the newer one is the truth).",
    ),
    DefectKind(
        "missing_required_field",
        "quarantined",
        "missing_required_field",
        "A required column is empty.",
    ),
    DefectKind(
        "invalid_timestamp",
        "quarantined",
        "invalid_timestamp",
        "A required timestamp cannot be parsed ('not a date', '2024-13-45').",
    ),
    DefectKind(
        "future_timestamp",
        "quarantined",
        "future_timestamp",
        "Order placed in 2030-2035.",
    ),
    DefectKind(
        "negative_quantity",
        "quarantined",
        "invalid_quantity",
        "Order line with quantity below zero.",
    ),
    DefectKind(
        "zero_price",
        "quarantined",
        "invalid_price",
        "Order line with unit_price 0.00.",
    ),
    DefectKind(
        "absurd_price",
        "quarantined",
        "invalid_price",
        "Order line priced at 1000x-5000x the list price.",
    ),
    DefectKind(
        "unknown_customer",
        "quarantined",
        "unknown_customer",
        "Order, ticket or survey keyed to an account/contact that exists nowhere.",
    ),
    DefectKind(
        "unknown_order",
        "quarantined",
        "unknown_order",
        "Order line or review whose order_id is in no order row.",
    ),
    DefectKind(
        "score_out_of_range",
        "quarantined",
        "score_out_of_range",
        "NPS outside 0-10, satisfaction, CSAT or review score outside 1-5.",
    ),
    DefectKind(
        "unknown_product",
        "quarantined",
        "unknown_product",
        "Order review of a product_id that is in no product row.",
    ),
)

#: Defects a correct pipeline standardises and keeps (any number per row).
COSMETIC_KINDS: tuple[DefectKind, ...] = (
    DefectKind(
        "email_variant", "kept", "", "Email in other case or with surrounding spaces."
    ),
    DefectKind(
        "placeholder_email",
        "kept",
        "",
        "Email is 'n/a', 'none', 'test@test.com' or empty.",
    ),
    DefectKind("phone_format", "kept", "", "Phone not in the system's usual format."),
    DefectKind(
        "name_variant",
        "kept",
        "",
        "Name lower/upper-cased, accents stripped, extra spaces or 'Last, First'.",
    ),
    DefectKind(
        "unicode_name", "kept", "", "Name with non-ASCII letters or an apostrophe."
    ),
    DefectKind(
        "date_format", "kept", "", "Date as '05/03/1985', '05.03.1985' or '19850305'."
    ),
    DefectKind(
        "timestamp_format",
        "kept",
        "",
        "Timestamp as '2024-03-05T10:11:12Z', '05/03/2024 10:11' or "
        "'2024/03/05 10:11:12'.",
    ),
    DefectKind(
        "country_variant",
        "kept",
        "",
        "Country as a name or odd code ('UK', 'germany ').",
    ),
    DefectKind(
        "gender_variant",
        "kept",
        "",
        "Gender as 'M', 'Male ', 'f', 'FEMALE', 'x' or empty.",
    ),
    DefectKind(
        "boolean_variant",
        "kept",
        "",
        "Consent as yes/no, Y/N, 1/0 instead of true/false.",
    ),
    DefectKind("status_variant", "kept", "", "Order status in other case or padded."),
    DefectKind("channel_variant", "kept", "", "Order channel in other case or padded."),
    DefectKind(
        "money_text",
        "kept",
        "",
        "List price with currency symbol or thousands separator.",
    ),
)

_EXCLUSIVE = {k.kind: i + 1 for i, k in enumerate(EXCLUSIVE_KINDS)}
_COSMETIC = {k.kind: i for i, k in enumerate(COSMETIC_KINDS)}
ALL_KINDS: dict[str, DefectKind] = {k.kind: k for k in EXCLUSIVE_KINDS + COSMETIC_KINDS}


class RawTable:
    """A raw table as Arrow string columns with per-row defect labels."""

    def __init__(self, name: str, columns: dict[str, pa.Array]) -> None:
        self.name = name
        self.columns = dict(columns)
        n = len(next(iter(self.columns.values())))
        self.code = np.zeros(n, dtype=np.int8)
        self.flags = np.zeros(n, dtype=np.uint32)
        self.order_key = np.arange(n, dtype=np.float64)
        self.busy = np.zeros(n, dtype=bool)  # already the source of a copy

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.code.size

    def clean(self) -> np.ndarray:
        """Rows with no defect of any kind."""
        return (self.code == 0) & (self.flags == 0)

    def pick(
        self,
        rng: np.random.Generator,
        rate: float,
        eligible: np.ndarray | None = None,
        allow_cosmetic: bool = False,
    ) -> np.ndarray:
        """Choose about ``rate`` of all rows among defect-free eligible rows."""
        ok = (self.code == 0) if allow_cosmetic else self.clean()
        ok &= ~self.busy
        if eligible is not None:
            ok &= eligible
        pool = np.flatnonzero(ok)
        k = min(int(rng.binomial(self.n_rows, rate)), pool.size)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        return np.sort(rng.choice(pool, size=k, replace=False))

    def get(self, column: str, idx: np.ndarray) -> pa.Array:
        """Values of ``column`` at rows ``idx``."""
        return self.columns[column].take(pa.array(idx, type=pa.int64()))

    def set(self, column: str, idx: np.ndarray, values) -> None:
        """Replace ``column`` at rows ``idx`` with ``values`` (same order)."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        values = (
            pa.array(values, type=pa.string())
            if not isinstance(values, pa.Array)
            else values.cast(pa.string())
        )
        order = np.argsort(idx, kind="stable")
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[idx] = True
        if int(mask.sum()) != idx.size:
            raise ValueError("duplicate row indices in set()")
        self.columns[column] = pc.replace_with_mask(
            self.columns[column], pa.array(mask), values.take(pa.array(order))
        )

    def mark(self, idx: np.ndarray, kind: str) -> None:
        """Label rows ``idx`` with a defect ``kind``."""
        if kind in _EXCLUSIVE:
            if np.any(self.code[idx] != 0):
                raise ValueError(f"{self.name}: stacking {kind} on a defective row")
            self.code[idx] = _EXCLUSIVE[kind]
        else:
            self.flags[idx] |= np.uint32(1 << _COSMETIC[kind])

    def append_copies(
        self,
        src: np.ndarray,
        kind: str,
        position: np.ndarray,
    ) -> np.ndarray:
        """Append copies of rows ``src`` labelled ``kind``.

        ``position`` is a fractional sort key placing each copy in the final
        file (e.g. ``src + 0.5`` right after its source row). Returns the
        indices of the new rows.
        """
        src = np.asarray(src, dtype=np.int64)
        n_old = self.n_rows
        take = pa.array(src)
        for col, arr in self.columns.items():
            self.columns[col] = pa.concat_arrays([arr, arr.take(take)])
        self.code = np.concatenate([self.code, np.zeros(src.size, np.int8)])
        self.flags = np.concatenate([self.flags, self.flags[src]])
        self.order_key = np.concatenate([self.order_key, position.astype(float)])
        self.busy[src] = True
        self.busy = np.concatenate([self.busy, np.ones(src.size, dtype=bool)])
        new = np.arange(n_old, n_old + src.size)
        self.mark(new, kind)
        return new

    def finalise(self) -> None:
        """Put rows into their final file order (by ``order_key``)."""
        order = np.argsort(self.order_key, kind="stable")
        if np.array_equal(order, np.arange(order.size)):
            return
        take = pa.array(order)
        self.columns = {c: a.take(take) for c, a in self.columns.items()}
        self.code = self.code[order]
        self.flags = self.flags[order]
        self.order_key = np.arange(order.size, dtype=np.float64)
        self.busy = self.busy[order]

    def to_arrow(self) -> pa.Table:
        """The table as Arrow, columns in contract order."""
        return pa.table(self.columns)

    def defect_rows(self) -> pd.DataFrame:
        """Truth rows for ``defects.csv`` (call after :meth:`finalise`).

        Exclusive defects give one row each; cosmetic defects are listed only
        for rows that are otherwise kept, so every raw row has one status.
        """
        frames = []
        rows = np.flatnonzero(self.code)
        if rows.size:
            kinds = EXCLUSIVE_KINDS
            frames.append(
                pd.DataFrame(
                    {
                        "row_number": rows + 1,
                        "defect_kind": np.array([k.kind for k in kinds])[
                            self.code[rows] - 1
                        ],
                    }
                )
            )
        kept = self.code == 0
        for kind, bit in _COSMETIC.items():
            rows = np.flatnonzero(kept & ((self.flags >> np.uint32(bit)) & 1 > 0))
            if rows.size:
                frames.append(
                    pd.DataFrame({"row_number": rows + 1, "defect_kind": kind})
                )
        if not frames:
            return pd.DataFrame(
                columns=[
                    "table_name",
                    "row_number",
                    "defect_kind",
                    "expected_status",
                    "expected_reason",
                ]
            )
        out = pd.concat(frames, ignore_index=True)
        out = out.sort_values(["row_number", "defect_kind"], kind="stable")
        out.insert(0, "table_name", self.name)
        out["expected_status"] = out["defect_kind"].map(
            {k: v.status for k, v in ALL_KINDS.items()}
        )
        out["expected_reason"] = out["defect_kind"].map(
            {k: v.reason for k, v in ALL_KINDS.items()}
        )
        return out.reset_index(drop=True)
