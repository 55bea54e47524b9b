"""Invoice-line exports in the UCI Online Retail / Online Retail II layout.

One row per invoice line: InvoiceNo (II: Invoice), StockCode, Description,
Quantity, InvoiceDate, UnitPrice (II: Price), CustomerID (II: Customer ID),
Country; as CSV or as the original .xlsx (every sheet is read: Online Retail
II has one per year). Written as shop_accounts, orders, order_lines and
products (see docs/real_data.md for the mapping and its reasons).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from crm_analytics.convert.common import (
    Report,
    clean_text,
    format_decimal,
    to_decimal,
    to_utc_text,
    write_table,
)

# Source columns by canonical name: each accepts the spellings of both
# layouts (compared lower-case without spaces and underscores).
COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice": ("invoiceno", "invoice"),
    "stock_code": ("stockcode",),
    "description": ("description",),
    "quantity": ("quantity",),
    "invoice_date": ("invoicedate",),
    "unit_price": ("unitprice", "price"),
    "customer": ("customerid",),
    "country": ("country",),
}

# Stock codes that are not products: postage, carriage (DOT), manual
# entries, bank and marketplace fees, samples, discounts, charity, bad-debt
# adjustments, tests. Matched case-insensitively; gift vouchers
# (gift_0001_...) by prefix.
NON_PRODUCT_CODES: frozenset[str] = frozenset(
    {
        "POST",
        "DOT",
        "M",
        "BANK CHARGES",
        "AMAZONFEE",
        "C2",
        "PADS",
        "D",
        "CRUK",
        "B",
        "S",
        "ADJUST",
        "ADJUST2",
        "TEST001",
        "TEST002",
    }
)
NON_PRODUCT_PREFIXES: tuple[str, ...] = ("GIFT_",)

DATE_ORDERS = ("month-first", "day-first")

_SLASH_DATE = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)


def _key(name: object) -> str:
    return re.sub(r"[\s_]+", "", str(name)).lower()


def canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The source columns under canonical names; raises ValueError naming
    what is missing. Columns of no known meaning are left out."""
    by_key = {_key(name): name for name in frame.columns}
    renamed: dict[str, str] = {}
    missing = []
    for canonical, spellings in COLUMNS.items():
        source = next((by_key[s] for s in spellings if s in by_key), None)
        if source is None:
            missing.append("/".join(spellings))
        else:
            renamed[source] = canonical
    if missing:
        raise ValueError(
            "not an Online Retail layout: no column "
            + ", ".join(missing)
            + f" (columns: {list(frame.columns)})"
        )
    return frame[list(renamed)].rename(columns=renamed)


def is_non_product(code: object) -> bool:
    """True for stock codes that are not products (postage, fees, ...)."""
    text = clean_text(code).upper()
    return text in NON_PRODUCT_CODES or text.startswith(NON_PRODUCT_PREFIXES)


def customer_key(value: object) -> str:
    """CustomerID as written by a spreadsheet or pandas (``17850.0``) or as
    text (``17850``), as the key ``17850``; empty when there is none."""
    if isinstance(value, float):
        return (
            ""
            if pd.isna(value)
            else (f"{value:.0f}" if value.is_integer() else repr(value))
        )
    text = clean_text(value)
    if text.lower() in ("nan", "none", "null"):
        return ""
    return re.sub(r"^(\d+)\.0*$", r"\1", text)


def is_credit_note(invoice: object) -> bool:
    """Online Retail marks credit notes with a C before the invoice number."""
    return clean_text(invoice).upper().startswith("C")


def slash_date_order(texts: Iterable[str]) -> str | None:
    """Which way the slash dates of one export are written: ``month-first``
    when some middle field is over 12, ``day-first`` when some first field
    is, None when no value tells (every field 12 or less) or there are no
    slash dates. Raises ValueError when both happen (two conventions)."""
    first_over = second_over = False
    for text in texts:
        match = _SLASH_DATE.match(text)
        if match:
            first_over |= int(match.group(1)) > 12
            second_over |= int(match.group(2)) > 12
    if first_over and second_over:
        raise ValueError("slash dates are written both day first and month first")
    if second_over:
        return "month-first"
    if first_over:
        return "day-first"
    return None


def parse_invoice_dates(values: pd.Series, date_order: str) -> pd.Series:
    """InvoiceDate cells as naive datetimes: spreadsheet datetimes as they
    are, ISO text, and slash dates (``12/1/2010 8:26``) in ``date_order``
    (``month-first`` or ``day-first``); two-digit years are 20xx. A value of
    no such form raises ValueError."""
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date order must be one of {DATE_ORDERS}")
    is_datetime = values.map(lambda v: isinstance(v, datetime))
    text = values.map(clean_text).where(~is_datetime, "")
    parts = text.str.extract(_SLASH_DATE)
    is_slash = parts[0].notna()
    first, second = parts[0].astype("Int64"), parts[1].astype("Int64")
    month, day = (first, second) if date_order == "month-first" else (second, first)
    year = parts[2].astype("Int64")
    year = year.where(year >= 100, year + 2000)
    slash = pd.to_datetime(
        pd.DataFrame(
            {
                "year": year,
                "month": month,
                "day": day,
                "hour": parts[3].astype("Int64").fillna(0),
                "minute": parts[4].astype("Int64").fillna(0),
                "second": parts[5].astype("Int64").fillna(0),
            }
        )[is_slash],
        errors="coerce",
    )
    iso = pd.to_datetime(
        text.where(~is_slash & (text != "")), format="ISO8601", errors="coerce"
    )
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    parsed[is_datetime] = pd.to_datetime(values[is_datetime].tolist())
    parsed[~is_slash & ~is_datetime] = iso[~is_slash & ~is_datetime]
    parsed[is_slash] = slash
    bad = parsed.isna()
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} unreadable InvoiceDate values, "
            f"e.g. {values[bad].iloc[0]!r}"
        )
    return parsed


def read_source(path: Path) -> pd.DataFrame:
    """Every row of the CSV, or of every sheet of the .xlsx, as objects."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
        return pd.concat(
            [canonical_columns(sheet) for sheet in sheets.values()], ignore_index=True
        )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return canonical_columns(frame)


def _amount(frame: pd.DataFrame) -> Decimal:
    return sum(
        (q * p for q, p in zip(frame["_quantity"], frame["_price"], strict=True)),
        Decimal(0),
    )


def convert_frame(
    source: pd.DataFrame,
    date_order: str | None = None,
    timezone: str = "UTC",
    report: Report | None = None,
) -> tuple[dict[str, pd.DataFrame], Report]:
    """Map canonical Online Retail rows to the raw tables (pure: no files).

    ``date_order`` None detects it from the slash dates (falling back to
    month-first, the UCI convention, when no value tells)."""
    report = report or Report("Online Retail")
    frame = source.copy()
    report.rows_read["invoice lines"] = len(frame)

    texts = frame["invoice_date"].map(
        lambda v: "" if isinstance(v, datetime) else clean_text(v)
    )
    detected = slash_date_order(texts)
    has_slash = texts.str.contains("/", regex=False).any()
    if date_order is None:
        date_order = detected or "month-first"
        how = "detected" if detected else "no value tells; the UCI default"
        report.note(
            f"slash dates read {date_order} ({how})"
            if has_slash
            else "dates are spreadsheet dates or ISO text: no day/month order"
        )
    elif detected and detected != date_order:
        raise ValueError(
            f"--date-order {date_order} given, but the dates are {detected}"
        )
    frame["_at"] = parse_invoice_dates(frame["invoice_date"], date_order)
    frame["_invoice"] = frame["invoice"].map(clean_text)
    frame["_code"] = frame["stock_code"].map(clean_text)
    frame["_customer"] = frame["customer"].map(customer_key)
    frame["_quantity"] = frame["quantity"].map(lambda v: int(to_decimal(v)))
    frame["_price"] = frame["unit_price"].map(to_decimal)

    # Exact duplicates: the same line twice, every column equal.
    duplicate = frame.duplicated(
        [
            "_invoice",
            "_code",
            "description",
            "_quantity",
            "_at",
            "_price",
            "_customer",
            "country",
        ]
    )
    report.drop_rows(
        "invoice lines",
        "exact duplicate of an earlier row",
        duplicate.sum(),
        _amount(frame[duplicate]),
    )
    frame = frame[~duplicate]

    anonymous = frame["_customer"] == ""
    report.drop_rows(
        "invoice lines",
        f"no CustomerID ({frame.loc[anonymous, '_invoice'].nunique():,} invoices): "
        "no customer to attribute them to",
        anonymous.sum(),
        _amount(frame[anonymous]),
    )
    frame = frame[~anonymous]

    non_product = frame["_code"].map(is_non_product)
    for code, lines in frame[non_product].groupby(frame["_code"].str.upper()):
        report.drop_rows(
            "invoice lines",
            f"StockCode {code}: not a product",
            len(lines),
            _amount(lines),
        )
    frame = frame[~non_product].copy()

    frame["_credit"] = frame["_invoice"].map(is_credit_note)
    rounded = frame["_price"].map(lambda p: p != p.quantize(Decimal("0.0001")))
    if rounded.any():
        report.note(f"{int(rounded.sum()):,} unit prices rounded to 4 decimals")

    invoices = frame.groupby("_invoice", sort=False)
    orders = pd.DataFrame(
        {
            "order_id": invoices["_invoice"].first(),
            "account_id": invoices["_customer"].first(),
            "_at": invoices["_at"].min(),
            "status": invoices["_credit"]
            .first()
            .map({True: "credit_note", False: "completed"}),
            "channel": "web",
        }
    ).reset_index(drop=True)
    several = invoices["_customer"].nunique() > 1
    if several.any():
        report.note(
            f"{int(several.sum())} invoices name several customers: "
            "the first line's is used"
        )
    orders["ordered_at"] = to_utc_text(orders.pop("_at"), timezone)

    lines = pd.DataFrame(
        {
            "order_id": frame["_invoice"],
            "line_number": frame.groupby("_invoice", sort=False).cumcount() + 1,
            "product_id": frame["_code"],
            "quantity": frame["_quantity"],
            "unit_price": frame["_price"].map(lambda p: format_decimal(p, 4)),
        }
    )

    products = _products(frame)
    accounts = _accounts(frame)

    report.map("InvoiceNo / Invoice", "orders.order_id, order_lines.order_id")
    report.map(
        "InvoiceNo starting with C",
        "orders.status = credit_note",
        "credited lines keep their negative Quantity; original_order_id empty",
    )
    report.map(
        "CustomerID / Customer ID", "orders.account_id, shop_accounts.account_id"
    )
    report.map("InvoiceDate", "orders.ordered_at", f"{date_order}, {timezone} -> UTC")
    report.map("StockCode", "order_lines.product_id, products.product_id")
    report.map("Quantity", "order_lines.quantity")
    report.map("UnitPrice / Price", "order_lines.unit_price", "4 decimals")
    report.map("line position in its invoice", "order_lines.line_number")
    report.map("Description", "products.product_name", "the most frequent one")
    report.map("UnitPrice / Price", "products.list_price", "median positive price")
    report.map("Country", "shop_accounts.country", "the customer's latest invoice's")
    report.map("(constant)", "orders.channel = web", "a non-store online retailer")
    return (
        {
            "shop_accounts": accounts,
            "orders": orders,
            "order_lines": lines,
            "products": products,
        },
        report,
    )


def _products(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for code, lines in frame.groupby("_code", sort=True):
        names = lines["description"].map(clean_text)
        names = names[names != ""]
        prices = sorted(p for p in lines["_price"] if p > 0)
        median = prices[len(prices) // 2] if prices else None
        list_price = format_decimal(median, 2) if median is not None else ""
        rows.append(
            {
                "product_id": code,
                "product_name": names.value_counts().index[0] if len(names) else "",
                # a median under a cent rounds to 0.00, which would make every
                # line look overpriced against it: leave it empty instead
                "list_price": "" if list_price in ("", "0.00") else list_price,
            }
        )
    return pd.DataFrame(rows, columns=["product_id", "product_name", "list_price"])


def _accounts(frame: pd.DataFrame) -> pd.DataFrame:
    latest = frame.sort_values("_at", kind="stable").groupby("_customer").tail(1)
    countries = frame.groupby("_customer")["country"].nunique()
    accounts = pd.DataFrame(
        {
            "account_id": latest["_customer"].to_numpy(),
            "country": latest["country"].map(clean_text).to_numpy(),
        }
    ).sort_values("account_id", ignore_index=True)
    accounts.attrs["multi_country"] = int((countries > 1).sum())
    return accounts


def convert(
    source: Path,
    out_dir: Path,
    date_order: str | None = None,
    timezone: str = "UTC",
) -> Report:
    """Read ``source`` (.csv or .xlsx), write the raw tables to ``out_dir``."""
    report = Report("Online Retail")
    tables, report = convert_frame(read_source(source), date_order, timezone, report)
    multi = tables["shop_accounts"].attrs.get("multi_country", 0)
    if multi:
        report.note(
            f"{multi} customers bought from several countries: "
            "the latest invoice's is kept"
        )
    report.drop_column(
        "Description (on lines)",
        "no such order_lines column; kept as products.product_name",
    )
    for name, table in tables.items():
        write_table(table, out_dir, name, report)
    return report
