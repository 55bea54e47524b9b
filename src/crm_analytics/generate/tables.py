"""Render the simulated activity as raw tables and plant the row defects.

One function per raw table. Each returns a finalised :class:`RawTable`
whose row labels feed ``truth/defects.csv``. Rates are fractions of the
table's rows; no row gets two defects that merge or quarantine it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from crm_analytics.generate import behaviour as bh
from crm_analytics.generate import formats as fmt
from crm_analytics.generate import pools
from crm_analytics.generate.messiness import RawTable

ORDER_COLUMNS: tuple[str, ...] = (
    "order_id", "account_id", "ordered_at", "status", "channel",
    "discount_amount", "shipping_amount", "updated_at",
)  # fmt: skip
LINE_COLUMNS: tuple[str, ...] = (
    "order_id", "line_number", "product_id", "quantity", "unit_price",
    "line_discount",
)  # fmt: skip
PRODUCT_COLUMNS: tuple[str, ...] = (
    "product_id", "product_name", "category", "subcategory", "brand",
    "list_price", "unit_cost",
)  # fmt: skip
TICKET_COLUMNS: tuple[str, ...] = (
    "ticket_id", "contact_id", "opened_at", "resolved_at", "channel",
    "category", "priority", "csat_score",
)  # fmt: skip
SURVEY_COLUMNS: tuple[str, ...] = (
    "response_id", "contact_id", "responded_at", "nps_score", "sat_product",
    "sat_delivery", "sat_service", "sat_value", "comment",
)  # fmt: skip
WEB_COLUMNS: tuple[str, ...] = (
    "event_id", "account_id", "session_id", "event_type", "product_id",
    "occurred_at",
)  # fmt: skip
EMAIL_COLUMNS: tuple[str, ...] = (
    "event_id", "contact_id", "campaign_id", "campaign_name", "event_type",
    "occurred_at",
)  # fmt: skip
REVIEW_COLUMNS: tuple[str, ...] = (
    "review_id", "order_id", "score", "reviewed_at", "product_id", "comment",
)  # fmt: skip
TRANSACTION_COLUMNS: tuple[str, ...] = (
    "customer_id", "transacted_at", "amount", "order_id",
)  # fmt: skip

INVALID_TIMESTAMPS: tuple[str, ...] = (
    "not a date",
    "2024-13-45",
    "2024-13-45 25:61:00",
    "99/99/2024 10:00",
)
PRODUCT_WIDTH = 4


def product_ids(product_idx: np.ndarray, valid=None) -> pa.Array:
    """``P0001``-style keys from 0-based product indices (-1 = none)."""
    return fmt.ids("P", np.asarray(product_idx) + 1, PRODUCT_WIDTH, valid=valid)


def _ts_variants(
    table: RawTable,
    seconds: dict[str, np.ndarray],
    rng: np.random.Generator,
    rate: float,
) -> None:
    """Re-spell ``rate`` of rows' timestamps in one of the odd formats.

    ``seconds`` maps candidate columns to their epoch values (-1 where the
    column is empty); one column per chosen row is re-spelled.
    """
    rows = table.pick(rng, rate)
    if rows.size == 0:
        return
    cols = list(seconds)
    which = rng.integers(0, len(cols), rows.size)
    style = rng.integers(0, len(fmt.TIMESTAMP_STYLES), rows.size)
    marked = []
    for c, col in enumerate(cols):
        for s, st in enumerate(fmt.TIMESTAMP_STYLES):
            sel = rows[(which == c) & (style == s)]
            sel = sel[seconds[col][sel] >= 0]
            if sel.size:
                table.set(col, sel, fmt.timestamps_styled(seconds[col][sel], st))
                marked.append(sel)
    if marked:
        table.mark(np.concatenate(marked), "timestamp_format")


def _invalid_timestamps(
    table: RawTable, column: str, rng: np.random.Generator, rate: float
) -> None:
    """Replace ``rate`` of a required timestamp column with unparseable text."""
    rows = table.pick(rng, rate)
    values = fmt.labels(INVALID_TIMESTAMPS, rng.integers(0, 4, rows.size))
    table.set(column, rows, values)
    table.mark(rows, "invalid_timestamp")


def _blank(table: RawTable, column: str, rng: np.random.Generator, rate: float):
    """Empty a required column in ``rate`` of rows."""
    rows = table.pick(rng, rate)
    table.set(column, rows, pa.nulls(rows.size, pa.string()))
    table.mark(rows, "missing_required_field")


def _unknown_keys(
    table: RawTable,
    column: str,
    prefix: str,
    width: int,
    kind: str,
    rng: np.random.Generator,
    rate: float,
) -> None:
    """Point ``rate`` of rows at keys that exist nowhere."""
    rows = table.pick(rng, rate)
    table.set(
        column, rows, fmt.ids(prefix, fmt.unknown_numbers(width, rows.size, rng), width)
    )
    table.mark(rows, kind)


def _exact_duplicates(table: RawTable, rng: np.random.Generator, rate: float):
    src = table.pick(rng, rate)
    if src.size:
        table.append_copies(
            src, "exact_duplicate", src + rng.integers(0, 5, src.size) + 0.6
        )


def _label_variants(
    table: RawTable,
    column: str,
    codes: np.ndarray,
    variants: tuple[tuple[str, ...], ...],
    kind: str,
    rng: np.random.Generator,
    rate: float,
) -> None:
    """Re-spell ``rate`` of a label column (case, padding)."""
    rows = table.pick(rng, rate, allow_cosmetic=True)
    c = codes[rows]
    flat = [v for opts in variants for v in opts]
    off = np.cumsum([0] + [len(v) for v in variants])[:-1]
    size = np.array([len(v) for v in variants])[c]
    pick = off[c] + (rng.random(rows.size) * size).astype(np.int64)
    table.set(column, rows, fmt.labels(flat, pick))
    table.mark(rows, kind)


def render_orders(
    orders: pd.DataFrame,
    account_width: int,
    order_width: int,
    rng: np.random.Generator,
) -> RawTable:
    """The raw ``orders`` table with its defects."""
    ordered = orders["ordered_at"].to_numpy()
    updated = orders["updated_at"].to_numpy()
    status = orders["status"].to_numpy()
    columns = {
        "order_id": fmt.ids("O", orders["order_no"].to_numpy(), order_width),
        "account_id": fmt.ids("A", orders["account_no"].to_numpy(), account_width),
        "ordered_at": fmt.timestamps(ordered),
        "status": fmt.labels(bh.ORDER_STATUSES, status),
        "channel": fmt.labels(bh.CHANNELS, orders["channel"].to_numpy()),
        "discount_amount": fmt.money(orders["discount_cents"].to_numpy()),
        "shipping_amount": fmt.money(orders["shipping_cents"].to_numpy()),
        "updated_at": fmt.timestamps(updated),
    }
    table = RawTable("orders", columns)
    # Order of work: cosmetic variants, then in-place quarantine defects,
    # then appended copies (so every copy matches its source verbatim).
    _ts_variants(table, {"ordered_at": ordered, "updated_at": updated}, rng, 0.015)
    status_variants = (
        ("Completed", " COMPLETED", "completed ", "COMPLETED"),
        ("Cancelled", "CANCELLED", " cancelled"),
        ("Returned", "RETURNED ", " returned"),
    )
    _label_variants(
        table, "status", status, status_variants, "status_variant", rng, 0.015
    )
    channel_variants = (
        ("Web", "WEB", " web"),
        ("App", "APP "),
        ("Store", "STORE"),
        ("Phone", "PHONE "),
    )
    channel = orders["channel"].to_numpy()
    _label_variants(
        table, "channel", channel, channel_variants, "channel_variant", rng, 0.01
    )
    _blank(table, "account_id", rng, 0.002)
    _blank(table, "ordered_at", rng, 0.002)
    _invalid_timestamps(table, "ordered_at", rng, 0.003)
    rows = table.pick(rng, 0.003)
    future = rng.integers(
        pd.Timestamp("2030-01-01").value // 10**9,
        pd.Timestamp("2035-12-31").value // 10**9,
        rows.size,
    )
    table.set("ordered_at", rows, fmt.timestamps(future))
    table.mark(rows, "future_timestamp")
    _unknown_keys(
        table, "account_id", "A", account_width, "unknown_customer", rng, 0.003
    )

    # A returned order exported once before the return: status completed and
    # an older updated_at. The later row is the truth.
    src = table.pick(rng, 0.005, eligible=status == 2)
    if src.size:
        old = table.append_copies(
            src, "conflicting_duplicate", src + rng.choice([-0.5, 0.5], src.size)
        )
        table.set("status", old, pa.array(["completed"] * src.size))
        old_at = ordered[src] + rng.integers(3600, 48 * 3600, src.size)
        old_at = np.minimum(old_at, updated[src] - 60)
        table.set("updated_at", old, fmt.timestamps(old_at))
    _exact_duplicates(table, rng, 0.01)
    src = table.pick(rng, 0.002)
    if src.size:
        new = table.append_copies(src, "missing_required_field", src + 0.7)
        table.set("order_id", new, pa.nulls(src.size, pa.string()))
    table.finalise()
    return table


def render_lines(
    lines: pd.DataFrame,
    products: pd.DataFrame,
    order_width: int,
    rng: np.random.Generator,
) -> RawTable:
    """The raw ``order_lines`` table with its defects."""
    product = lines["product_idx"].to_numpy()
    columns = {
        "order_id": fmt.ids("O", lines["order_idx"].to_numpy() + 1, order_width),
        "line_number": fmt.integers(lines["line_number"].to_numpy()),
        "product_id": product_ids(product),
        "quantity": fmt.integers(lines["quantity"].to_numpy()),
        "unit_price": fmt.money(lines["price_cents"].to_numpy()),
        "line_discount": fmt.money(lines["line_discount_cents"].to_numpy()),
    }
    table = RawTable("order_lines", columns)
    rows = table.pick(rng, 0.003)
    table.set("quantity", rows, fmt.integers(-rng.integers(1, 6, rows.size)))
    table.mark(rows, "negative_quantity")
    rows = table.pick(rng, 0.0015)
    table.set("unit_price", rows, pa.array(["0.00"] * rows.size))
    table.mark(rows, "zero_price")
    rows = table.pick(rng, 0.0015)
    list_cents = products["list_cents"].to_numpy()[product[rows]]
    table.set(
        "unit_price", rows, fmt.money(list_cents * rng.integers(1000, 5001, rows.size))
    )
    table.mark(rows, "absurd_price")
    _unknown_keys(table, "order_id", "O", order_width, "unknown_order", rng, 0.002)
    _blank(table, "product_id", rng, 0.001)
    _exact_duplicates(table, rng, 0.005)
    table.finalise()
    return table


def _money_text(cents: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Prices spelled with currency symbols and thousands separators."""
    out = []
    for c, style in zip(cents, rng.integers(0, 3, cents.size), strict=True):
        amount = f"{c / 100:,.2f}"
        out.append(["$" + amount, "€" + amount, "EUR " + amount][style])
    return out


def render_products(products: pd.DataFrame, rng: np.random.Generator) -> RawTable:
    """The raw ``products`` table (the catalogue is small: plain Python)."""
    cats = pools.CATEGORIES
    names, subs, brands = [], [], []
    for row in products.itertuples(index=False):  # ~200 products
        sub_pool, brand_pool, _, _ = pools.CATALOGUE[cats[row.category]]
        sub = sub_pool[row.subcategory]
        brand = brand_pool[row.brand]
        adjective = pools.PRODUCT_ADJECTIVES[row.adjective]
        names.append(f"{brand} {adjective} {sub.title()} {row.product_no % 97 + 1}")
        subs.append(sub)
        brands.append(brand)
    list_cents = products["list_cents"].to_numpy()
    columns = {
        "product_id": product_ids(np.arange(len(products))),
        "product_name": pa.array(names),
        "category": fmt.labels(cats, products["category"].to_numpy()),
        "subcategory": pa.array(subs),
        "brand": pa.array(brands),
        "list_price": fmt.money(list_cents),
        "unit_cost": fmt.money(products["cost_cents"].to_numpy()),
    }
    table = RawTable("products", columns)
    # Always include the expensive items (thousands separator) and a few more.
    expensive = np.flatnonzero(list_cents >= 100_000)[:3]
    rows = np.union1d(expensive, table.pick(rng, 0.05))
    table.set("list_price", rows, pa.array(_money_text(list_cents[rows], rng)))
    table.mark(rows, "money_text")
    table.finalise()
    return table


def render_tickets(
    tickets: pd.DataFrame,
    contact_width: int,
    rng: np.random.Generator,
) -> RawTable:
    """The raw ``tickets`` table with its defects."""
    opened = tickets["opened_at"].to_numpy()
    resolved = tickets["resolved_at"].to_numpy()
    unresolved = tickets["is_unresolved"].to_numpy()
    width = fmt.id_width(len(tickets))
    columns = {
        "ticket_id": fmt.ids("T", np.arange(1, len(tickets) + 1), width),
        "contact_id": fmt.ids("C", tickets["contact_no"].to_numpy(), contact_width),
        "opened_at": fmt.timestamps(opened),
        "resolved_at": fmt.timestamps(resolved, valid=~unresolved),
        "channel": fmt.labels(pools.TICKET_CHANNELS, tickets["channel"].to_numpy()),
        "category": fmt.labels(pools.TICKET_CATEGORIES, tickets["category"].to_numpy()),
        "priority": fmt.labels(pools.TICKET_PRIORITIES, tickets["priority"].to_numpy()),
        "csat_score": fmt.integers(
            tickets["csat"].to_numpy(), valid=tickets["has_csat"].to_numpy()
        ),
    }
    table = RawTable("tickets", columns)
    _unknown_keys(
        table, "contact_id", "C", contact_width, "unknown_customer", rng, 0.005
    )
    rows = table.pick(rng, 0.005, eligible=tickets["has_csat"].to_numpy())
    table.set(
        "csat_score", rows, fmt.labels(("0", "6", "9"), rng.integers(0, 3, rows.size))
    )
    table.mark(rows, "score_out_of_range")
    _invalid_timestamps(table, "opened_at", rng, 0.002)
    _blank(table, "opened_at", rng, 0.002)
    _ts_variants(
        table,
        {"opened_at": opened, "resolved_at": np.where(unresolved, -1, resolved)},
        rng,
        0.01,
    )
    table.finalise()
    return table


def render_surveys(
    surveys: pd.DataFrame, contact_width: int, rng: np.random.Generator
) -> RawTable:
    """The raw ``survey_responses`` table with its defects."""
    at = surveys["responded_at"].to_numpy()
    flat = [c for group in pools.COMMENTS for c in group]
    off = np.cumsum([0] + [len(g) for g in pools.COMMENTS])[:-1]
    comment_idx = off[surveys["sentiment"].to_numpy()] + surveys["comment"].to_numpy()
    width = fmt.id_width(len(surveys))
    columns = {
        "response_id": fmt.ids("R", np.arange(1, len(surveys) + 1), width),
        "contact_id": fmt.ids("C", surveys["contact_no"].to_numpy(), contact_width),
        "responded_at": fmt.timestamps(at),
        "nps_score": fmt.integers(surveys["nps"].to_numpy()),
        "sat_product": fmt.integers(surveys["sat_product"].to_numpy()),
        "sat_delivery": fmt.integers(surveys["sat_delivery"].to_numpy()),
        "sat_service": fmt.integers(surveys["sat_service"].to_numpy()),
        "sat_value": fmt.integers(surveys["sat_value"].to_numpy()),
        "comment": fmt.labels(
            flat, comment_idx, valid=surveys["has_comment"].to_numpy()
        ),
    }
    table = RawTable("survey_responses", columns)
    rows = table.pick(rng, 0.01)
    on_nps = rng.random(rows.size) < 0.5
    table.set(
        "nps_score",
        rows[on_nps],
        fmt.labels(("11", "-1", "15"), rng.integers(0, 3, int(on_nps.sum()))),
    )
    sat_rows = rows[~on_nps]
    sat_cols = ("sat_product", "sat_delivery", "sat_service", "sat_value")
    which = rng.integers(0, 4, sat_rows.size)
    for c, col in enumerate(sat_cols):
        sel = sat_rows[which == c]
        table.set(col, sel, fmt.labels(("0", "6"), rng.integers(0, 2, sel.size)))
    table.mark(rows, "score_out_of_range")
    _unknown_keys(
        table, "contact_id", "C", contact_width, "unknown_customer", rng, 0.004
    )
    _blank(table, "responded_at", rng, 0.002)
    _ts_variants(table, {"responded_at": at}, rng, 0.01)
    table.finalise()
    return table


def render_web_events(
    events: pd.DataFrame, account_width: int, rng: np.random.Generator
) -> RawTable:
    """The raw ``web_events`` table with its defects."""
    at = events["occurred_at"].to_numpy()
    account = events["account_no"].to_numpy()
    product = events["product_idx"].to_numpy()
    width = fmt.id_width(len(events))
    columns = {
        "event_id": fmt.ids("W", np.arange(1, len(events) + 1), width),
        "account_id": fmt.ids("A", account, account_width, valid=account > 0),
        "session_id": fmt.ids("S", events["session_no"].to_numpy(), width),
        "event_type": fmt.labels(bh.WEB_EVENT_TYPES, events["event_type"].to_numpy()),
        "product_id": product_ids(product, valid=product >= 0),
        "occurred_at": fmt.timestamps(at),
    }
    table = RawTable("web_events", columns)
    _ts_variants(table, {"occurred_at": at}, rng, 0.01)
    _blank(table, "event_type", rng, 0.001)
    _invalid_timestamps(table, "occurred_at", rng, 0.001)
    _exact_duplicates(table, rng, 0.01)
    table.finalise()
    return table


def render_email_events(
    events: pd.DataFrame,
    campaigns: list[tuple[str, str]],
    contact_width: int,
    rng: np.random.Generator,
) -> RawTable:
    """The raw ``email_events`` table with its defects."""
    at = events["occurred_at"].to_numpy()
    camp = events["campaign"].to_numpy()
    width = fmt.id_width(len(events))
    columns = {
        "event_id": fmt.ids("M", np.arange(1, len(events) + 1), width),
        "contact_id": fmt.ids("C", events["contact_no"].to_numpy(), contact_width),
        "campaign_id": fmt.labels([c for c, _ in campaigns], camp),
        "campaign_name": fmt.labels([name for _, name in campaigns], camp),
        "event_type": fmt.labels(bh.EMAIL_EVENT_TYPES, events["event_type"].to_numpy()),
        "occurred_at": fmt.timestamps(at),
    }
    table = RawTable("email_events", columns)
    _invalid_timestamps(table, "occurred_at", rng, 0.002)
    _blank(table, "contact_id", rng, 0.001)
    _ts_variants(table, {"occurred_at": at}, rng, 0.01)
    table.finalise()
    return table


def render_reviews(
    reviews: pd.DataFrame, order_width: int, rng: np.random.Generator
) -> RawTable:
    """The raw ``order_reviews`` table with its defects."""
    at = reviews["reviewed_at"].to_numpy()
    score = reviews["score"].to_numpy()
    product = reviews["product_idx"].to_numpy()
    flat = [c for group in pools.COMMENTS for c in group]
    off = np.cumsum([0] + [len(g) for g in pools.COMMENTS])[:-1]
    comment_idx = off[reviews["sentiment"].to_numpy()] + reviews["comment"].to_numpy()
    width = fmt.id_width(len(reviews))
    columns = {
        "review_id": fmt.ids("V", np.arange(1, len(reviews) + 1), width),
        "order_id": fmt.ids("O", reviews["order_no"].to_numpy(), order_width),
        "score": fmt.integers(score),
        "reviewed_at": fmt.timestamps(at),
        "product_id": product_ids(product, valid=product >= 0),
        "comment": fmt.labels(
            flat, comment_idx, valid=reviews["has_comment"].to_numpy()
        ),
    }
    table = RawTable("order_reviews", columns)
    rows = table.pick(rng, 0.01)
    table.set(
        "score",
        rows,
        fmt.labels(("0", "6", "4.5", "five"), rng.integers(0, 4, rows.size)),
    )
    table.mark(rows, "score_out_of_range")
    _unknown_keys(table, "order_id", "O", order_width, "unknown_order", rng, 0.004)
    _unknown_keys(
        table, "product_id", "P", PRODUCT_WIDTH, "unknown_product", rng, 0.003
    )
    _blank(table, "reviewed_at", rng, 0.002)
    _invalid_timestamps(table, "reviewed_at", rng, 0.002)
    _ts_variants(table, {"reviewed_at": at}, rng, 0.01)
    # An edited review exported twice: the earlier version has another
    # score and an earlier reviewed_at. The later row is the truth.
    src = table.pick(rng, 0.004)
    if src.size:
        old = table.append_copies(
            src, "conflicting_duplicate", src + rng.choice([-0.5, 0.5], src.size)
        )
        table.set("score", old, fmt.integers(score[src] % 5 + 1))
        ordered = reviews["ordered_at"].to_numpy()[src]
        earlier = ordered + ((at[src] - ordered) * rng.uniform(0.2, 0.8, src.size))
        earlier = earlier.astype(np.int64)
        table.set("reviewed_at", old, fmt.timestamps(earlier))
    _exact_duplicates(table, rng, 0.005)
    table.finalise()
    return table


def render_transactions(
    orders: pd.DataFrame, account_width: int, order_width: int
) -> pa.Table:
    """The minimal ``transactions`` file: completed orders, no defects."""
    done = orders.loc[orders["status"].to_numpy() == 0]
    return pa.table(
        {
            "customer_id": fmt.ids("A", done["account_no"].to_numpy(), account_width),
            "transacted_at": fmt.timestamps(done["ordered_at"].to_numpy()),
            "amount": fmt.money(done["net_cents"].to_numpy()),
            "order_id": fmt.ids("O", done["order_no"].to_numpy(), order_width),
        }
    )
