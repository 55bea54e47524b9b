"""Unit tests of the importers' pure mapping functions (crm_analytics.convert),
each against hand-computed values, and of each layout's mapping of its
fixture (tests/python/data/real_layouts/<layout>/, synthetic)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from crm_analytics.convert import olist, online_retail, shopify
from crm_analytics.convert.__main__ import main
from crm_analytics.convert.common import (
    Report,
    format_decimal,
    parse_offset_timestamps,
    strip_apostrophe,
    to_decimal,
    to_utc_text,
    write_table,
)

LAYOUTS = Path(__file__).parent / "data" / "real_layouts"


# --- shared value formatting ---


def test_money_is_read_exactly_and_written_plain():
    assert to_decimal(2.55) == Decimal("2.55")  # not 2.54999...
    assert to_decimal("1,299.00") == Decimal("1299.00")
    assert to_decimal("") is None
    assert to_decimal(float("nan")) is None
    with pytest.raises(ValueError):
        to_decimal("1e5")
    assert format_decimal(Decimal("2.55"), 4) == "2.5500"
    assert format_decimal(Decimal("0.125")) == "0.13"  # half up
    assert format_decimal(Decimal("-8.5")) == "-8.50"
    assert format_decimal(None) == ""


def test_apostrophe_prefix_is_removed():
    assert strip_apostrophe("'02134") == "02134"
    assert strip_apostrophe(" '+1 617 555 0101") == "+1 617 555 0101"
    assert strip_apostrophe("O'Brien") == "O'Brien"


def test_timestamps_are_written_as_utc():
    naive = pd.Series(pd.to_datetime(["2011-06-01 10:00", "2011-01-05 10:00", None]))
    assert to_utc_text(naive).tolist() == [
        "2011-06-01 10:00:00",
        "2011-01-05 10:00:00",
        "",
    ]
    # London wall clock: summer time is UTC+1, winter time UTC
    assert to_utc_text(naive, "Europe/London").tolist() == [
        "2011-06-01 09:00:00",
        "2011-01-05 10:00:00",
        "",
    ]
    offsets = parse_offset_timestamps(
        pd.Series(["2024-01-05 10:00:00 -0500", "2024-02-10T23:30:00+01:00", ""])
    )
    assert to_utc_text(offsets).tolist() == [
        "2024-01-05 15:00:00",
        "2024-02-10 22:30:00",
        "",
    ]
    with pytest.raises(ValueError, match="unreadable"):
        parse_offset_timestamps(pd.Series(["05/01/2024"]))


def test_writer_refuses_columns_outside_the_contract(tmp_path):
    with pytest.raises(ValueError, match="not contract columns"):
        write_table(
            pd.DataFrame({"order_id": ["1"], "taxes": ["2"]}), tmp_path, "orders"
        )
    with pytest.raises(ValueError, match="not a raw contract table"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path, "payments")
    path = write_table(
        pd.DataFrame({"status": ["paid"], "order_id": ["#1"]}), tmp_path, "orders"
    )
    assert path.read_text() == "order_id,status\n#1,paid\n"  # contract order


def test_report_lists_drops_with_amounts():
    report = Report("X")
    report.drop_rows("lines", "no customer", 3, Decimal("12.5"))
    report.drop_rows("lines", "nothing", 0)
    text = report.render()
    assert "lines: 3 (no customer, amount 12.50)" in text
    assert "nothing" not in text


# --- Online Retail ---


def test_slash_date_order_is_detected_from_values_over_12():
    assert online_retail.slash_date_order(["12/1/2010 8:26", "12/13/2010 9:05"]) == (
        "month-first"
    )
    assert online_retail.slash_date_order(["13/12/2010 09:05"]) == "day-first"
    assert online_retail.slash_date_order(["12/1/2010 8:26", "2010-12-01"]) is None
    with pytest.raises(ValueError, match="both"):
        online_retail.slash_date_order(["13/1/2010", "1/13/2010"])


def test_invoice_dates_in_every_written_form():
    values = pd.Series(
        [
            "12/1/2010 8:26",
            "1/5/11 11:30",
            "2009-12-01 07:45:00",
            datetime(2010, 12, 9, 12, 50),
        ],
        dtype=object,
    )
    parsed = online_retail.parse_invoice_dates(values, "month-first")
    assert parsed.tolist() == [
        pd.Timestamp("2010-12-01 08:26"),
        pd.Timestamp("2011-01-05 11:30"),
        pd.Timestamp("2009-12-01 07:45"),
        pd.Timestamp("2010-12-09 12:50"),
    ]
    day_first = online_retail.parse_invoice_dates(
        pd.Series(["12/1/2010 8:26"]), "day-first"
    )
    assert day_first.iloc[0] == pd.Timestamp("2010-01-12 08:26")
    with pytest.raises(ValueError, match="unreadable InvoiceDate"):
        online_retail.parse_invoice_dates(pd.Series(["soon"]), "month-first")


def test_customer_ids_and_codes():
    assert online_retail.customer_key(17850.0) == "17850"
    assert online_retail.customer_key("17850.0") == "17850"
    assert online_retail.customer_key(" 17850 ") == "17850"
    assert online_retail.customer_key(float("nan")) == ""
    assert online_retail.customer_key("") == ""
    for code in (
        "POST",
        "post",
        "BANK CHARGES",
        "AMAZONFEE",
        "C2",
        "M",
        "m",
        "gift_0001_20",
        "CRUK",
        "DOT",
        "PADS",
        "D",
        "B",
        "S",
    ):
        assert online_retail.is_non_product(code), code
    for code in ("85123A", "22139", "DCGS0003", "C2X"):
        assert not online_retail.is_non_product(code), code
    assert online_retail.is_credit_note("C536379")
    assert not online_retail.is_credit_note("536379")


def test_unknown_layout_names_missing_columns():
    with pytest.raises(ValueError, match="StockCode|stockcode"):
        online_retail.canonical_columns(pd.DataFrame(columns=["InvoiceNo", "Price"]))


def _retail_fixture() -> pd.DataFrame:
    return online_retail.read_source(LAYOUTS / "online_retail" / "OnlineRetail.csv")


def test_online_retail_fixture_mapping_by_hand():
    tables, report = online_retail.convert_frame(_retail_fixture())
    orders = tables["orders"].set_index("order_id")
    assert sorted(orders.index) == ["536001", "536003", "536005", "536006", "C536004"]
    assert orders.loc["C536004", "status"] == "credit_note"
    assert orders.loc["536003", "status"] == "completed"
    assert orders.loc["536003", "ordered_at"] == "2010-12-13 09:05:00"
    lines = tables["order_lines"]
    assert len(lines) == 7  # 13 rows - duplicate - 2 without customer - 3 fees
    credit = lines[lines["order_id"] == "C536004"].iloc[0]
    assert (credit["quantity"], credit["unit_price"]) == (-2, "4.2500")
    value = sum(
        q * Decimal(p)
        for q, p in zip(lines["quantity"], lines["unit_price"], strict=True)
    )
    assert value == Decimal("89.13")  # README: net revenue of the fixture
    accounts = tables["shop_accounts"].set_index("account_id")
    assert accounts.loc["17002", "country"] == "France"
    products = tables["products"].set_index("product_id")
    assert "85123a" in products.index  # codes are kept as written
    assert products.loc["22423", "list_price"] == ""  # only a zero price
    text = report.render()
    assert "1 (exact duplicate of an earlier row, amount 15.30)" in text
    assert "2 (no CustomerID (2 invoices)" in text
    assert "StockCode POST: not a product, amount 18.00" in text
    assert "month-first (detected)" in text


def test_online_retail_ii_xlsx_gives_the_same_tables(tmp_path):
    # The II layout (Invoice, Price, Customer ID) as a spreadsheet with real
    # dates, over two sheets as the UCI file has.
    source = pd.read_csv(
        LAYOUTS / "online_retail" / "OnlineRetail.csv", dtype=str, keep_default_na=False
    )
    sheet = pd.DataFrame(
        {
            "Invoice": source["InvoiceNo"],
            "StockCode": source["StockCode"],
            "Description": source["Description"],
            "Quantity": source["Quantity"].astype(int),
            "InvoiceDate": pd.to_datetime(
                source["InvoiceDate"], format="%m/%d/%Y %H:%M"
            ),
            "Price": source["UnitPrice"].astype(float),
            "Customer ID": pd.to_numeric(source["CustomerID"]),
            "Country": source["Country"],
        }
    )
    path = tmp_path / "online_retail_II.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        sheet.iloc[:6].to_excel(writer, sheet_name="Year 2009-2010", index=False)
        sheet.iloc[6:].to_excel(writer, sheet_name="Year 2010-2011", index=False)
    from_xlsx, _ = online_retail.convert_frame(online_retail.read_source(path))
    from_csv, _ = online_retail.convert_frame(_retail_fixture())
    for name, table in from_csv.items():
        pd.testing.assert_frame_equal(
            from_xlsx[name].reset_index(drop=True).astype(str),
            table.reset_index(drop=True).astype(str),
            obj=name,
        )


def test_given_date_order_must_agree_with_the_dates():
    with pytest.raises(ValueError, match="month-first"):
        online_retail.convert_frame(_retail_fixture(), date_order="day-first")


# --- Shopify ---


def test_account_key_ignores_case_and_spaces_and_hides_the_address():
    key = shopify.account_key("ana@example.com")
    assert key == shopify.account_key(" Ana@Example.COM ")
    assert key.startswith("shopify-") and "example" not in key
    assert shopify.account_key("") == ""


def test_refund_is_capped_at_the_merchandise_subtotal():
    assert shopify.cap_refund(Decimal("21.20"), Decimal("15.00")) == (
        Decimal("15.00"),
        Decimal("6.20"),
    )
    assert shopify.cap_refund(Decimal("20"), Decimal("60")) == (Decimal("20"), 0)
    assert shopify.cap_refund(None, Decimal("60")) == (None, 0)
    assert shopify.cap_refund(Decimal("0.00"), Decimal("60")) == (None, 0)


def test_order_fields_come_from_the_first_row_of_each_order():
    rows = pd.DataFrame(
        {
            "Name": ["#1", "#1", "#2"],
            "Subtotal": ["10.00", "", "5.00"],
            "Lineitem name": ["a", "b", "c"],
        }
    )
    head = shopify.fill_order_fields(rows)
    assert head.loc["#1", "Subtotal"] == "10.00"
    assert head.loc["#1", "Lineitem name"] == "a"
    assert list(head.index) == ["#1", "#2"]


def test_channels():
    assert [
        shopify.channel(s) for s in ("web", "POS", "iphone", "shopify_draft_order", "")
    ] == ["web", "store", "app", "phone", ""]


def _shopify_fixture():
    folder = LAYOUTS / "shopify"
    read = lambda name: pd.read_csv(folder / name, dtype=str, keep_default_na=False)  # noqa: E731
    return shopify.convert_frames(
        read("orders_export_1.csv"), read("customers_export.csv")
    )


def test_shopify_fixture_mapping_by_hand():
    tables, report = _shopify_fixture()
    orders = tables["orders"].set_index("order_id")
    assert list(orders.index) == ["#1001", "#1002", "#1003", "#1005", "#1006"]
    assert orders.loc["#1001", "ordered_at"] == "2024-01-05 15:00:00"
    assert orders.loc["#1002", "status"] == "partially_refunded"
    assert orders.loc["#1003", "refunded_amount"] == "15.00"  # 21.20 capped
    assert orders.loc["#1002", "refunded_amount"] == "20.00"
    assert orders.loc["#1001", "discount_amount"] == "5.00"
    assert orders.loc["#1006", "discount_amount"] == "0.00"  # all on the line
    assert orders.loc["#1002", "channel"] == "store"
    assert orders.loc["#1001", "account_id"] == orders.loc["#1006", "account_id"]
    # merchandise after discounts equals each order's Subtotal
    lines = tables["order_lines"]
    merchandise = (
        lines.assign(
            v=[
                int(q) * Decimal(p) - (Decimal(d) if d else 0)
                for q, p, d in zip(
                    lines["quantity"],
                    lines["unit_price"],
                    lines["line_discount"],
                    strict=True,
                )
            ]
        )
        .groupby("order_id")["v"]
        .sum()
    )
    subtotal = merchandise - orders["discount_amount"].map(Decimal)
    assert subtotal.to_dict() == {
        "#1001": Decimal("45.00"),
        "#1002": Decimal("60.00"),
        "#1003": Decimal("15.00"),
        "#1005": Decimal("40.00"),
        "#1006": Decimal("16.00"),
    }
    accounts = tables["shop_accounts"].set_index("email")
    assert accounts.loc["ana@example.com", "phone"] == "+16175550101"
    assert accounts.loc["ana@example.com", "address_line"] == "12 Elm St, Apt 3"
    assert accounts.loc["bob@example.com", "full_name"] == "Bob Stone"  # from billing
    assert accounts.loc["bob@example.com", "phone"] == "+33 4 72 00 00 01"
    assert len(accounts) == 4
    assert (
        tables["products"].set_index("product_id").loc["TEA-01", "brand"] == "Leaf & Co"
    )
    text = report.render()
    assert (
        "orders: 1 (no Email: no customer to attribute them to, amount 20.00)" in text
    )
    assert "shipping and taxes (not revenue): 6.20 on 1 orders" in text
    assert "taxes, not product revenue, not written: 4.80" in text


# --- Olist ---


def test_categories_are_translated_and_missing_ones_reported():
    products = pd.DataFrame({"product_category_name": ["beleza_saude", "pc_gamer", ""]})
    translation = pd.DataFrame(
        {
            "product_category_name": ["beleza_saude"],
            "product_category_name_english": ["health_beauty"],
        }
    )
    english, untranslated = olist.translate_categories(products, translation)
    assert english.tolist() == ["health_beauty", "pc_gamer", ""]
    assert untranslated == ["pc_gamer"]


def test_review_comment_and_ids():
    assert olist.review_comment("Bom", "Produto\r\nok") == "Bom: Produto ok"
    assert olist.review_comment("", "ok") == "ok"
    assert olist.review_comment("", "") == ""
    reviews = pd.DataFrame(
        {"review_id": ["r1", "r2", "r2"], "order_id": ["a", "b", "c"]}
    )
    assert olist.review_ids(reviews).tolist() == ["r1", "r2:b", "r2:c"]


def test_olist_fixture_mapping_by_hand():
    tables, report = olist.convert_frames(olist.read_dump(LAYOUTS / "olist"))
    accounts = tables["shop_accounts"]
    assert accounts["customer_key"].nunique() == 3 and len(accounts) == 4
    orders = tables["orders"].set_index("status")
    assert sorted(orders.index) == ["canceled", "delivered", "delivered", "shipped"]
    assert "unavailable" not in orders.index  # no items: dropped
    assert sorted(tables["orders"]["shipping_amount"]) == [
        "17.87",
        "19.93",
        "19.93",
        "26.58",
    ]
    categories = tables["products"].set_index("list_price")["category"].to_dict()
    assert categories["58.90"] == "bed_bath_table"
    assert categories["199.00"] == "pc_gamer"
    reviews = tables["order_reviews"]
    assert len(reviews) == 4  # 6 - duplicate - review of the dropped order
    assert reviews["review_id"].is_unique
    assert "Cancelado: Comprei e nao recebi" in set(reviews["comment"])
    text = report.render()
    assert "orders: 1 (status unavailable, no items: nothing was sold)" in text
    assert "3 paid exactly price + freight" in text
    assert "kept in Portuguese: pc_gamer" in text


# --- the command line ---


@pytest.mark.parametrize(
    ("layout", "source", "tables"),
    [
        ("shopify", "shopify", {"shop_accounts", "orders", "order_lines", "products"}),
        (
            "online-retail",
            "online_retail/OnlineRetail.csv",
            {"shop_accounts", "orders", "order_lines", "products"},
        ),
        (
            "olist",
            "olist",
            {"shop_accounts", "orders", "order_lines", "products", "order_reviews"},
        ),
    ],
)
def test_command_writes_the_raw_files_and_prints_the_report(
    tmp_path, capsys, layout, source, tables
):
    assert main([layout, str(LAYOUTS / source), str(tmp_path / "raw")]) == 0
    written = {p.stem for p in (tmp_path / "raw").glob("*.csv")}
    assert written == tables
    out = capsys.readouterr().out
    assert "Rows written:" in out and "Rows dropped:" in out and "Mapped:" in out


def test_command_reports_a_wrong_layout(tmp_path, capsys):
    code = main(
        [
            "online-retail",
            str(LAYOUTS / "shopify" / "orders_export_1.csv"),
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "not an Online Retail layout" in capsys.readouterr().err
