"""The Olist (Brazilian e-commerce) dump: one folder of CSV files.

Read: olist_customers_dataset.csv, olist_orders_dataset.csv,
olist_order_items_dataset.csv, olist_products_dataset.csv,
product_category_name_translation.csv, olist_order_reviews_dataset.csv and
olist_order_payments_dataset.csv (checked, not written). Sellers and
geolocation are not customer data and are not read. Written: shop_accounts,
orders, order_lines, products and order_reviews (docs/real_data.md).
"""

from __future__ import annotations

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

FILES: dict[str, str] = {
    "customers": "olist_customers_dataset.csv",
    "orders": "olist_orders_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "products": "olist_products_dataset.csv",
    "translation": "product_category_name_translation.csv",
    "reviews": "olist_order_reviews_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
}
REQUIRED_FILES = ("customers", "orders", "items")

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "customer_unique_id", "customer_city"),
    "orders": ("order_id", "customer_id", "order_status", "order_purchase_timestamp"),
    "items": ("order_id", "order_item_id", "product_id", "price", "freight_value"),
    "products": ("product_id", "product_category_name"),
    "translation": ("product_category_name", "product_category_name_english"),
    "reviews": ("review_id", "order_id", "review_score", "review_answer_timestamp"),
    "payments": ("order_id", "payment_value"),
}

# Later milestones of an order: the latest one present is its updated_at.
MILESTONES = (
    "order_approved_at",
    "order_delivered_carrier_date",
    "order_delivered_customer_date",
)


def read_dump(folder: Path) -> dict[str, pd.DataFrame]:
    """The dump's files as text frames, by short name; optional files that
    are absent are left out. Raises FileNotFoundError / ValueError."""
    frames: dict[str, pd.DataFrame] = {}
    for name, file_name in FILES.items():
        path = folder / file_name
        if not path.exists():
            if name in REQUIRED_FILES:
                raise FileNotFoundError(f"{path}: not found (an Olist dump has it)")
            continue
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        missing = [c for c in COLUMNS[name] if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)}")
        frames[name] = frame
    return frames


def translate_categories(
    products: pd.DataFrame, translation: pd.DataFrame | None
) -> tuple[pd.Series, list[str]]:
    """English category per product: the translation file's name for its
    Portuguese ``product_category_name``; a name the file lacks stays
    Portuguese (returned, to be reported); no name gives empty."""
    mapping: dict[str, str] = {}
    if translation is not None:
        mapping = {
            clean_text(pt): clean_text(en)
            for pt, en in zip(
                translation["product_category_name"],
                translation["product_category_name_english"],
                strict=True,
            )
            if clean_text(pt) and clean_text(en)
        }
    portuguese = products["product_category_name"].map(clean_text)
    english = portuguese.map(lambda name: mapping.get(name, name))
    untranslated = sorted({n for n in portuguese if n and n not in mapping})
    return english, untranslated


def review_comment(title: object, message: object) -> str:
    """Olist's review title and message as one comment: ``title: message``,
    either alone when the other is empty; line breaks become spaces."""
    parts = [" ".join(clean_text(v).split()) for v in (title, message)]
    return ": ".join(part for part in parts if part)


def review_ids(reviews: pd.DataFrame) -> pd.Series:
    """The review key: Olist's review_id, made unique per order where one
    review_id is attached to several orders (``<review_id>:<order_id>``), so
    that each order keeps its review."""
    shared = reviews.groupby("review_id")["order_id"].transform("nunique") > 1
    return reviews["review_id"].where(
        ~shared, reviews["review_id"] + ":" + reviews["order_id"]
    )


def convert_frames(
    frames: dict[str, pd.DataFrame], timezone: str = "UTC"
) -> tuple[dict[str, pd.DataFrame], Report]:
    """Map the dump's frames to the raw tables (pure: no files)."""
    report = Report("Olist")
    for name, frame in frames.items():
        report.rows_read[FILES[name]] = len(frame)
    tables: dict[str, pd.DataFrame] = {}

    customers = frames["customers"]
    tables["shop_accounts"] = pd.DataFrame(
        {
            "account_id": customers["customer_id"].map(clean_text),
            "customer_key": customers["customer_unique_id"].map(clean_text),
            "city": customers["customer_city"].map(clean_text),
            "country": "BR",
        }
    )
    report.map("customers.customer_id", "shop_accounts.account_id", "one per order")
    report.map(
        "customers.customer_unique_id",
        "shop_accounts.customer_key",
        "the person: links a person's accounts",
    )
    report.map("customers.customer_city", "shop_accounts.city")
    report.map("(constant)", "shop_accounts.country = BR", "Olist sells in Brazil")
    report.drop_column(
        "customers.customer_zip_code_prefix, customer_state",
        "shop_accounts has no postal code or state",
    )

    items = frames["items"].copy()
    items["_price"] = items["price"].map(to_decimal)
    items["_freight"] = (
        items["freight_value"]
        .map(to_decimal)
        .map(lambda v: v if v is not None else Decimal(0))
    )
    orders = frames["orders"].copy()
    has_items = orders["order_id"].isin(set(items["order_id"]))
    for status, count in orders.loc[~has_items, "order_status"].value_counts().items():
        report.drop_rows(
            "orders", f"status {status}, no items: nothing was sold", count
        )
    dropped_orders = set(orders.loc[~has_items, "order_id"])
    orders = orders[has_items]
    freight = items.groupby("order_id")["_freight"].sum()
    milestones = pd.concat(
        [
            pd.to_datetime(orders[c].where(orders[c] != ""), format="ISO8601")
            for c in MILESTONES
            if c in orders.columns
        ],
        axis=1,
    )
    tables["orders"] = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "account_id": orders["customer_id"],
            "ordered_at": to_utc_text(
                pd.to_datetime(orders["order_purchase_timestamp"], format="ISO8601"),
                timezone,
            ),
            "status": orders["order_status"].map(clean_text),
            "channel": "web",
            "shipping_amount": orders["order_id"].map(freight).map(format_decimal),
            "updated_at": to_utc_text(milestones.max(axis=1), timezone)
            if not milestones.empty
            else "",
        }
    )
    report.map("orders.order_id", "orders.order_id")
    report.map("orders.customer_id", "orders.account_id")
    report.map(
        "orders.order_purchase_timestamp", "orders.ordered_at", f"{timezone} -> UTC"
    )
    report.map(
        "orders.order_status",
        "orders.status",
        "verbatim; seeds/order_status_map.csv maps it",
    )
    report.map(
        "latest of order_approved_at, order_delivered_carrier_date, "
        "order_delivered_customer_date",
        "orders.updated_at",
    )
    report.map("sum of items.freight_value", "orders.shipping_amount")
    report.map("(constant)", "orders.channel = web")
    report.drop_column(
        "orders.order_estimated_delivery_date", "a forecast, not an event"
    )

    tables["order_lines"] = pd.DataFrame(
        {
            "order_id": items["order_id"],
            "line_number": items["order_item_id"].map(clean_text),
            "product_id": items["product_id"],
            "quantity": 1,
            "unit_price": items["_price"].map(lambda p: format_decimal(p, 4)),
        }
    )
    report.map("items.order_item_id", "order_lines.line_number")
    report.map("items.product_id", "order_lines.product_id")
    report.map("(one row per unit)", "order_lines.quantity = 1")
    report.map("items.price", "order_lines.unit_price")
    report.drop_column("items.seller_id, shipping_limit_date", "no contract column")

    products = frames.get("products")
    if products is None:
        products = pd.DataFrame({"product_id": sorted(set(items["product_id"]))})
        products["product_category_name"] = ""
        report.note("no products file: products written without categories")
    english, untranslated = translate_categories(products, frames.get("translation"))
    if untranslated:
        report.note(
            "categories missing from the translation file, kept in Portuguese: "
            + ", ".join(untranslated)
        )
    median_price = (
        items.assign(_p=items["_price"].astype(float))
        .groupby("product_id")["_p"]
        .median()
    )
    tables["products"] = pd.DataFrame(
        {
            "product_id": products["product_id"],
            "category": english,
            "list_price": products["product_id"]
            .map(median_price)
            .map(lambda p: "" if pd.isna(p) else format_decimal(Decimal(repr(p)))),
        }
    )
    report.map(
        "products.product_category_name",
        "products.category",
        "English, from product_category_name_translation.csv",
    )
    report.map("median items.price of the product", "products.list_price")
    report.drop_column(
        "products.product_name_lenght ... product_width_cm",
        "name and description lengths, photos, weight and size: no contract column",
    )

    reviews = frames.get("reviews")
    if reviews is not None:
        duplicate = reviews.duplicated()
        report.drop_rows(
            "reviews", "exact duplicate of an earlier row", duplicate.sum()
        )
        reviews = reviews[~duplicate]
        orphan = reviews["order_id"].isin(dropped_orders)
        report.drop_rows("reviews", "of an order dropped above", orphan.sum())
        reviews = reviews[~orphan]
        answered = reviews["review_answer_timestamp"].where(
            reviews["review_answer_timestamp"] != "",
            reviews.get("review_creation_date", ""),
        )
        tables["order_reviews"] = pd.DataFrame(
            {
                "review_id": review_ids(reviews),
                "order_id": reviews["order_id"],
                "score": reviews["review_score"].map(clean_text),
                "reviewed_at": to_utc_text(
                    pd.to_datetime(answered, format="ISO8601"), timezone
                ),
                "comment": [
                    review_comment(t, m)
                    for t, m in zip(
                        reviews.get("review_comment_title", ""),
                        reviews.get("review_comment_message", ""),
                        strict=False,
                    )
                ]
                if "review_comment_message" in reviews.columns
                else "",
            }
        )
        report.map(
            "reviews.review_id",
            "order_reviews.review_id",
            "<review_id>:<order_id> where one review covers several orders",
        )
        report.map("reviews.review_score", "order_reviews.score")
        report.map("reviews.review_answer_timestamp", "order_reviews.reviewed_at")
        report.map(
            "reviews.review_comment_title + review_comment_message",
            "order_reviews.comment",
            "title: message",
        )

    payments = frames.get("payments")
    if payments is not None:
        report.drop_column("payments", "not written; checked against the items")
        _check_payments(payments, items, report)
    return tables, report


def _check_payments(
    payments: pd.DataFrame, items: pd.DataFrame, report: Report
) -> None:
    paid = (
        payments.assign(_value=payments["payment_value"].map(to_decimal))
        .groupby("order_id")["_value"]
        .sum()
    )
    charged = (items["_price"] + items["_freight"]).groupby(items["order_id"]).sum()
    both = paid.index.intersection(charged.index)
    difference = (paid[both] - charged[both]).map(abs)
    equal = int((difference <= Decimal("0.01")).sum())
    report.note(
        f"payments: {len(both):,} orders with items and payments; "
        f"{equal:,} paid exactly price + freight (within 0.01), "
        f"{len(both) - equal:,} differ (vouchers, instalment interest); "
        f"payments total {sum(paid[both], Decimal(0)):,.2f} against items + "
        f"freight {sum(charged[both], Decimal(0)):,.2f}; "
        f"{len(charged.index.difference(paid.index)):,} orders with items "
        "have no payment"
    )


def convert(src: Path, out_dir: Path, timezone: str = "UTC") -> Report:
    """Read the dump in folder ``src``, write the raw tables to ``out_dir``."""
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: the Olist dump is a folder of CSV files")
    tables, report = convert_frames(read_dump(src), timezone)
    for name, table in tables.items():
        write_table(table, out_dir, name, report)
    return report
