"""Shopify's orders export CSV, plus its customers export.

The orders export has one row per line item; the order's own fields
(Financial Status, Subtotal, Shipping, Taxes, Discount Amount, Refunded
Amount, billing details...) are filled on its first row only. Timestamps
carry a UTC offset (``2024-03-05 10:11:12 -0500``); zips and phones are often
prefixed with an apostrophe. Written: shop_accounts, orders, order_lines and
products (docs/real_data.md).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pandas as pd

from crm_analytics.convert.common import (
    Report,
    clean_text,
    format_decimal,
    parse_offset_timestamps,
    strip_apostrophe,
    to_decimal,
    to_utc_text,
    write_table,
)

ORDER_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
)

# Shopify's Source -> the contract's channel; other sources are written
# lower-case as they are.
CHANNELS: dict[str, str] = {
    "web": "web",
    "pos": "store",
    "iphone": "app",
    "android": "app",
    "mobile_app": "app",
    "shopify_draft_order": "phone",
}

# Customers export spellings: the current one first, then the older one.
CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("Customer ID",),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
    "email": ("Email",),
    "phone": ("Phone", "Default Address Phone"),
    "address1": ("Default Address Address1", "Address1"),
    "address2": ("Default Address Address2", "Address2"),
    "city": ("Default Address City", "City"),
    "country": ("Default Address Country Code", "Country Code", "Country"),
    "opt_in": ("Accepts Email Marketing", "Accepts Marketing"),
}


def account_key(email: object) -> str:
    """The shop account key of an email: ``shopify-`` and 16 hex digits of
    the SHA-256 of the trimmed, lower-cased address (the orders export names
    its customer only by email; the key keeps the address itself out of
    keys); empty for no email."""
    text = clean_text(email).lower()
    if not text:
        return ""
    return "shopify-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def channel(source: object) -> str:
    """Shopify's Source column as the contract's channel."""
    text = clean_text(source).lower()
    return CHANNELS.get(text, text)


def cap_refund(
    refunded: Decimal | None, merchandise: Decimal
) -> tuple[Decimal | None, Decimal]:
    """Shopify's Refunded Amount split into the part that refunds
    merchandise (at most the order's merchandise subtotal, which is what
    revenue counts) and the rest (refunded shipping and taxes)."""
    if refunded is None or refunded == 0:
        return None, Decimal(0)
    merchandise = max(merchandise, Decimal(0))
    kept = min(refunded, merchandise)
    return kept, refunded - kept


def fill_order_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per order (by Name, in file order) with each order-level
    field taken from the first of its rows that has it: Shopify fills them on
    the order's first row only."""
    text = frame.map(clean_text).replace("", pd.NA)
    return text.groupby(frame["Name"].map(clean_text), sort=False).first()


def _money(value: object) -> Decimal:
    amount = to_decimal(value if value is not pd.NA else "")
    return amount if amount is not None else Decimal(0)


def _pick(frame: pd.DataFrame, spellings: tuple[str, ...]) -> pd.Series:
    for name in spellings:
        if name in frame.columns:
            return frame[name].map(strip_apostrophe)
    return pd.Series("", index=frame.index)


def _accounts_from_customers(customers: pd.DataFrame, report: Report) -> pd.DataFrame:
    col = {key: _pick(customers, names) for key, names in CUSTOMER_COLUMNS.items()}
    key = col["email"].map(account_key)
    by_id = "shopify-customer-" + col["customer_id"]
    key = key.where(key != "", by_id.where(col["customer_id"] != "", ""))
    report.drop_rows(
        "customers", "neither Email nor Customer ID: no key", int((key == "").sum())
    )
    address = col["address1"].str.cat(col["address2"], sep=", ").str.strip(", ")
    accounts = pd.DataFrame(
        {
            "account_id": key,
            "full_name": col["first_name"]
            .str.cat(col["last_name"], sep=" ")
            .str.strip(),
            "email": col["email"],
            "phone": col["phone"],
            "address_line": address,
            "city": col["city"],
            "country": col["country"],
            "newsletter_opt_in": col["opt_in"],
        }
    )
    report.map(
        "customers Email",
        "shop_accounts.account_id",
        "shopify- + SHA-256 of the address (Customer ID when no email)",
    )
    report.map("customers Email", "shop_accounts.email")
    report.map("customers First Name + Last Name", "shop_accounts.full_name")
    report.map(
        "customers Phone (else Default Address Phone)",
        "shop_accounts.phone",
        "leading apostrophe removed",
    )
    report.map("customers Address1, Address2", "shop_accounts.address_line")
    report.map("customers City", "shop_accounts.city")
    report.map("customers Country Code", "shop_accounts.country")
    report.map("customers Accepts (Email) Marketing", "shop_accounts.newsletter_opt_in")
    report.drop_column(
        "customers Zip, Province, Company", "shop_accounts has no such column"
    )
    report.drop_column(
        "customers Total Spent, Total Orders",
        "derived figures; the warehouse computes them from the orders",
    )
    return accounts[accounts["account_id"] != ""]


def convert_frames(
    orders_export: pd.DataFrame, customers_export: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], Report]:
    """Map the two exports to the raw tables (pure: no files)."""
    report = Report("Shopify")
    missing = [c for c in ORDER_COLUMNS if c not in orders_export.columns]
    if missing:
        raise ValueError("not a Shopify orders export: no column " + ", ".join(missing))
    rows = orders_export.copy()
    rows["Name"] = rows["Name"].map(clean_text)
    report.rows_read["orders export rows (line items)"] = len(rows)
    report.rows_read["orders"] = rows["Name"].nunique()

    head = fill_order_fields(rows)
    head["_account"] = head["Email"].map(account_key)
    head["_lines_value"] = (
        rows.assign(
            _v=[
                _money(q) * _money(p)
                for q, p in zip(
                    rows["Lineitem quantity"], rows["Lineitem price"], strict=True
                )
            ]
        )
        .groupby("Name", sort=False)["_v"]
        .sum()
    )
    line_discounts = (
        rows.assign(
            _d=rows.get("Lineitem discount", pd.Series("", index=rows.index)).map(
                _money
            )
        )
        .groupby("Name", sort=False)["_d"]
        .sum()
    )

    anonymous = head["_account"] == ""
    report.drop_rows(
        "orders",
        "no Email: no customer to attribute them to",
        int(anonymous.sum()),
        sum(head.loc[anonymous, "_lines_value"], Decimal(0)),
    )
    kept_names = set(head.index[~anonymous])
    head = head[~anonymous]
    rows = rows[rows["Name"].isin(kept_names)]

    def field(name: str) -> pd.Series:
        return (
            head[name] if name in head.columns else pd.Series(pd.NA, index=head.index)
        )

    discount_total = field("Discount Amount").map(_money)
    order_discount = (discount_total - line_discounts.reindex(head.index)).map(
        lambda v: max(v, Decimal(0))
    )
    subtotal = [
        _money(s) if s is not pd.NA else lines - d
        for s, lines, d in zip(
            field("Subtotal"), head["_lines_value"], discount_total, strict=True
        )
    ]
    refunds = [
        cap_refund(to_decimal("" if r is pd.NA else r), s)
        for r, s in zip(field("Refunded Amount"), subtotal, strict=True)
    ]
    excess = sum((extra for _, extra in refunds), Decimal(0))
    if excess:
        report.note(
            f"refunds beyond the merchandise subtotal, read as refunded "
            f"shipping and taxes (not revenue): {excess:,.2f} on "
            f"{sum(1 for _, extra in refunds if extra):,} orders"
        )
    taxes = sum(field("Taxes").map(_money), Decimal(0))
    report.note(f"taxes, not product revenue, not written: {taxes:,.2f}")
    currencies = sorted(set(field("Currency").dropna()))
    if len(currencies) > 1:
        report.note(
            "several currencies (" + ", ".join(currencies) + "): amounts are "
            "written as they are, unconverted"
        )

    created = parse_offset_timestamps(field("Created at").fillna(""))
    changes = pd.concat(
        [
            parse_offset_timestamps(field(name).fillna(""))
            for name in ("Paid at", "Fulfilled at", "Cancelled at")
            if name in head.columns
        ]
        or [pd.Series(pd.NaT, index=head.index, dtype="datetime64[ns, UTC]")],
        axis=1,
    ).max(axis=1)
    orders = pd.DataFrame(
        {
            "order_id": head.index,
            "account_id": head["_account"],
            "ordered_at": to_utc_text(created),
            "status": field("Financial Status").fillna(""),
            "channel": field("Source").map(channel),
            "discount_amount": order_discount.map(format_decimal),
            "shipping_amount": field("Shipping").map(_money).map(format_decimal),
            "refunded_amount": [format_decimal(kept) for kept, _ in refunds],
            "updated_at": to_utc_text(changes),
        }
    ).reset_index(drop=True)
    report.map("Name", "orders.order_id, order_lines.order_id")
    report.map("Email", "orders.account_id", "as for the customers export")
    report.map("Created at", "orders.ordered_at", "UTC offset applied")
    report.map(
        "Financial Status",
        "orders.status",
        "verbatim; seeds/order_status_map.csv maps it",
    )
    report.map("Source", "orders.channel", "web, pos -> store, iphone/android -> app")
    report.map(
        "Discount Amount - sum of Lineitem discount",
        "orders.discount_amount",
        "the order-level part; line discounts go on the lines",
    )
    report.map("Shipping", "orders.shipping_amount", "not product revenue")
    report.map(
        "Refunded Amount",
        "orders.refunded_amount",
        "capped at the merchandise subtotal",
    )
    report.map("latest of Paid at, Fulfilled at, Cancelled at", "orders.updated_at")
    report.drop_column("Taxes, Total", "taxes are not revenue; Total includes them")

    rows = rows.copy()
    rows["_sku"] = rows.get("Lineitem sku", pd.Series("", index=rows.index)).map(
        clean_text
    )
    rows["_product"] = rows["_sku"].where(
        rows["_sku"] != "", rows["Lineitem name"].map(clean_text)
    )
    lines = pd.DataFrame(
        {
            "order_id": rows["Name"],
            "line_number": rows.groupby("Name", sort=False).cumcount() + 1,
            "product_id": rows["_product"],
            "quantity": rows["Lineitem quantity"].map(clean_text),
            "unit_price": rows["Lineitem price"].map(
                lambda v: format_decimal(to_decimal(v), 4)
            ),
            "line_discount": rows.get(
                "Lineitem discount", pd.Series("", index=rows.index)
            ).map(lambda v: format_decimal(to_decimal(v))),
        }
    )
    report.map("Lineitem sku (else Lineitem name)", "order_lines.product_id")
    report.map("Lineitem quantity", "order_lines.quantity")
    report.map("Lineitem price", "order_lines.unit_price")
    report.map("Lineitem discount", "order_lines.line_discount")
    report.map("row position in its order", "order_lines.line_number")

    rows["_price"] = rows["Lineitem price"].map(_money).astype(float)
    vendor = rows.get("Vendor", pd.Series("", index=rows.index)).map(clean_text)
    by_product = rows.assign(_vendor=vendor).groupby("_product", sort=True)
    products = pd.DataFrame(
        {
            "product_id": list(by_product.groups),
            "product_name": by_product["Lineitem name"]
            .last()
            .map(clean_text)
            .to_numpy(),
            "brand": by_product["_vendor"].last().to_numpy(),
            "list_price": [
                format_decimal(Decimal(repr(p))) for p in by_product["_price"].median()
            ],
        }
    )
    report.map("Lineitem name", "products.product_name")
    report.map("Vendor", "products.brand")
    report.map("median Lineitem price", "products.list_price")

    # Accounts: the customers export, plus buyers it does not hold (from the
    # order's email and billing details).
    accounts = (
        _accounts_from_customers(customers_export, report)
        if customers_export is not None
        else pd.DataFrame(columns=["account_id"])
    )
    if customers_export is not None:
        report.rows_read["customers"] = len(customers_export)
    missing_buyers = head[~head["_account"].isin(set(accounts["account_id"]))]
    missing_buyers = missing_buyers[~missing_buyers["_account"].duplicated()]
    fallback = pd.DataFrame(
        {
            "account_id": missing_buyers["_account"],
            "full_name": missing_buyers.get("Billing Name", pd.NA),
            "email": missing_buyers["Email"],
            "phone": missing_buyers.get("Billing Phone", pd.NA),
            "address_line": missing_buyers.get("Billing Address1", pd.NA),
            "city": missing_buyers.get("Billing City", pd.NA),
            "country": missing_buyers.get("Billing Country", pd.NA),
            "newsletter_opt_in": missing_buyers.get("Accepts Marketing", pd.NA),
        }
    ).fillna("")
    fallback["phone"] = fallback["phone"].map(strip_apostrophe)
    if len(fallback):
        report.note(
            f"{len(fallback):,} buyers are not in the customers export: their "
            "accounts come from the order's Email and Billing fields"
        )
    accounts = pd.concat([accounts, fallback], ignore_index=True)
    duplicate = accounts["account_id"].duplicated()
    report.drop_rows("customers", "same email as an earlier row", int(duplicate.sum()))
    accounts = accounts[~duplicate]
    report.drop_column(
        "Billing/Shipping Zip, Province, Company, Shipping address",
        "no contract column (shop_accounts keeps one address)",
    )
    return (
        {
            "shop_accounts": accounts,
            "orders": orders,
            "order_lines": lines,
            "products": products,
        },
        report,
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def convert(orders_csv: Path, customers_csv: Path | None, out_dir: Path) -> Report:
    """Read the exports, write the raw tables to ``out_dir``."""
    customers = _read(customers_csv) if customers_csv is not None else None
    tables, report = convert_frames(_read(orders_csv), customers)
    for name, table in tables.items():
        write_table(table, out_dir, name, report)
    return report
