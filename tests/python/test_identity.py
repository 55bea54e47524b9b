"""Unit tests of identity resolution on small hand-made record sets."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from crm_analytics.identity import customer_id_for, resolve_identities


def records(*rows: dict) -> pd.DataFrame:
    columns = ["record_key", "customer_key", "email", "phone", "name_key", "birth_date"]
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows])
    frame["source_system"] = frame["record_key"].str.split(":").str[0]
    frame["source_customer_id"] = frame["record_key"].str.split(":").str[1]
    return frame


def clusters(result: pd.DataFrame) -> set[frozenset[str]]:
    grouped = result.groupby("customer_id")["record_key"].apply(frozenset)
    return set(grouped)


def test_each_rule_links_and_is_recorded_in_order():
    result = resolve_identities(
        records(
            {"record_key": "crm:1", "email": "a@x.com", "name_key": "ann lee"},
            {"record_key": "shop:1", "email": "a@x.com"},
            {"record_key": "crm:2", "phone": "+441", "name_key": "bo ek"},
            {"record_key": "shop:2", "phone": "+441", "name_key": "bo ek"},
            {"record_key": "crm:3", "name_key": "cy do", "birth_date": "1980-01-01"},
            {"record_key": "shop:3", "name_key": "cy do", "birth_date": "1980-01-01"},
            {"record_key": "shop:4", "email": "d@x.com"},
        )
    )
    assert clusters(result) == {
        frozenset({"crm:1", "shop:1"}),
        frozenset({"crm:2", "shop:2"}),
        frozenset({"crm:3", "shop:3"}),
        frozenset({"shop:4"}),
    }
    rules = dict(zip(result["record_key"], result["match_rule"], strict=True))
    assert rules == {
        "crm:1": "email",
        "shop:1": "email",
        "crm:2": "phone_name",
        "shop:2": "phone_name",
        "crm:3": "name_birth_date",
        "shop:3": "name_birth_date",
        "shop:4": "unmatched",
    }


def test_shared_phone_with_different_names_does_not_link_a_household():
    result = resolve_identities(
        records(
            {"record_key": "crm:1", "phone": "+441", "name_key": "ann lee"},
            {"record_key": "crm:2", "phone": "+441", "name_key": "bob lee"},
        )
    )
    assert result["customer_id"].nunique() == 2


def test_links_are_transitive():
    result = resolve_identities(
        records(
            {"record_key": "crm:1", "email": "a@x.com"},
            {
                "record_key": "shop:1",
                "email": "a@x.com",
                "phone": "+1",
                "name_key": "a",
            },
            {"record_key": "shop:2", "phone": "+1", "name_key": "a"},
        )
    )
    assert result["customer_id"].nunique() == 1
    assert (result["count_customer_records"] == 3).all()


def test_placeholder_values_shared_by_many_records_link_nothing():
    rows = [{"record_key": f"crm:{i}", "email": "same@x.com"} for i in range(5)]
    assert (
        resolve_identities(records(*rows), max_group_size=4)["customer_id"].nunique()
        == 5
    )
    assert (
        resolve_identities(records(*rows), max_group_size=5)["customer_id"].nunique()
        == 1
    )


def test_customer_id_is_derived_from_smallest_key_and_independent_of_order():
    rows = records(
        {"record_key": "shop:9", "email": "a@x.com"},
        {"record_key": "crm:5", "email": "a@x.com"},
    )
    forward = resolve_identities(rows)
    backward = resolve_identities(rows.iloc[::-1].reset_index(drop=True))
    assert set(forward["customer_id"]) == {customer_id_for("crm:5")}
    pd.testing.assert_frame_equal(
        forward.sort_values("record_key").reset_index(drop=True),
        backward.sort_values("record_key").reset_index(drop=True),
    )
    assert customer_id_for("crm:5").startswith("cus_")
    assert len(customer_id_for("crm:5")) == 20


def test_missing_values_never_match_each_other():
    result = resolve_identities(
        records({"record_key": "crm:1"}, {"record_key": "crm:2"})
    )
    assert result["customer_id"].nunique() == 2
    assert set(result["match_rule"]) == {"unmatched"}


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="record_key must be unique"):
        resolve_identities(records({"record_key": "a:1"}, {"record_key": "a:1"}))
    with pytest.raises(ValueError, match="required column"):
        resolve_identities(pd.DataFrame({"email": ["a@x.com"]}))
    with pytest.raises(ValueError, match="max_group_size"):
        resolve_identities(records({"record_key": "a:1"}), max_group_size=1)


def test_empty_input_gives_empty_map():
    result = resolve_identities(records({"record_key": "a:1"}).iloc[0:0])
    assert result.empty
    assert "customer_id" in result.columns
    # DuckDB must see text columns, not INTEGER (a fully quarantined
    # transactions.csv failed a contract and a unit test on that).
    types = duckdb.sql("select * from result").types
    assert [str(t) for t in types] == ["VARCHAR"] * 5 + ["BIGINT"]


def test_customer_key_links_records_with_nothing_else_in_common():
    result = resolve_identities(
        records(
            {"record_key": "shop:1", "customer_key": "K1", "email": "a@x.com"},
            {"record_key": "shop:2", "customer_key": "K1", "email": "b@x.com"},
            {"record_key": "crm:1", "customer_key": "K1", "name_key": "ann lee"},
            {"record_key": "crm:2", "customer_key": "K2"},
        )
    )
    assert clusters(result) == {
        frozenset({"crm:1", "shop:1", "shop:2"}),
        frozenset({"crm:2"}),
    }
    rules = dict(zip(result["record_key"], result["match_rule"], strict=True))
    assert rules == {
        "crm:1": "customer_key",
        "shop:1": "customer_key",
        "shop:2": "customer_key",
        "crm:2": "unmatched",
    }


def test_customer_key_comes_before_the_fuzzy_rules_and_links_transitively():
    result = resolve_identities(
        records(
            {"record_key": "crm:1", "customer_key": "K1", "email": "a@x.com"},
            {"record_key": "shop:1", "customer_key": "K1", "email": "a@x.com"},
            {"record_key": "shop:2", "email": "a@x.com"},
        )
    )
    assert result["customer_id"].nunique() == 1
    rules = dict(zip(result["record_key"], result["match_rule"], strict=True))
    assert rules == {
        "crm:1": "customer_key",
        "shop:1": "customer_key",
        "shop:2": "email",
    }


def test_customer_key_has_no_placeholder_limit():
    rows = [
        {
            "record_key": f"transactions:{i}",
            "customer_key": "olist-9f",
            "email": "p@x.com",
        }
        for i in range(20)
    ]
    result = resolve_identities(records(*rows), max_group_size=2)
    assert result["customer_id"].nunique() == 1
    assert (result["count_customer_records"] == 20).all()
    assert set(result["match_rule"]) == {"customer_key"}


def test_customer_key_is_trimmed_case_sensitive_and_empty_is_absent():
    result = resolve_identities(
        records(
            {"record_key": "crm:1", "customer_key": " K1\t"},
            {"record_key": "shop:1", "customer_key": "K1"},
            {"record_key": "shop:2", "customer_key": "k1"},
            {"record_key": "crm:2", "customer_key": ""},
            {"record_key": "shop:3", "customer_key": "  "},
            {"record_key": "shop:4"},
        )
    )
    assert clusters(result) == {
        frozenset({"crm:1", "shop:1"}),
        frozenset({"shop:2"}),
        frozenset({"crm:2"}),
        frozenset({"shop:3"}),
        frozenset({"shop:4"}),
    }


def test_records_without_a_customer_key_column_resolve_as_before():
    rows = records(
        {"record_key": "crm:1", "email": "a@x.com"},
        {"record_key": "shop:1", "email": "a@x.com"},
        {"record_key": "shop:2", "email": "b@x.com"},
    )
    with_column = resolve_identities(rows)
    without_column = resolve_identities(rows.drop(columns="customer_key"))
    pd.testing.assert_frame_equal(with_column, without_column)
    assert clusters(with_column) == {
        frozenset({"crm:1", "shop:1"}),
        frozenset({"shop:2"}),
    }
