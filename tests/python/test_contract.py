"""The raw contract: the YAMLs are consistent and the docs match them."""

from __future__ import annotations

from crm_analytics.contract import PROJECT_DIR, load_contract, render_markdown

EXPECTED_TABLES = {
    "crm_contacts",
    "shop_accounts",
    "orders",
    "order_lines",
    "order_reviews",
    "products",
    "tickets",
    "survey_responses",
    "web_events",
    "email_events",
    "transactions",
}


def test_contract_declares_every_raw_table_with_a_required_key():
    tables = {table.name: table for table in load_contract()}
    assert set(tables) == EXPECTED_TABLES
    for table in tables.values():
        assert any(column.required for column in table.columns), table.name
        names = [column.name for column in table.columns]
        assert len(names) == len(set(names)), table.name


def test_docs_show_the_current_contract():
    doc = (PROJECT_DIR / "docs" / "raw_data_contract.md").read_text(encoding="utf-8")
    block = doc.split("<!-- contract:start -->\n")[1].split("<!-- contract:end -->")[0]
    assert block == render_markdown(load_contract()), (
        "docs/raw_data_contract.md is stale: regenerate the block between the "
        "contract markers with `python -m crm_analytics.contract`"
    )
