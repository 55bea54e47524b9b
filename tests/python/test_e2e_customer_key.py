"""End to end: the optional raw column `customer_key` (identity rule 0).

One generated data set is built three times: as generated (no
`customer_key` column), with the column present but empty everywhere, and
with keys planted on a few records that share nothing else. The first two
must give identical marts; in the third the planted records become one
customer each and every other customer and order stays as it was.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from helpers import Warehouse, build, build_fixture, generate, table_digests

from crm_analytics.identity import customer_id_for

pytestmark = pytest.mark.e2e

KEYED_TABLES = {"crm_contacts": "contact_id", "shop_accounts": "account_id"}

BLANKS = ("", "  ", "\t", "n/a", "NULL")
"""What "no key" looks like in the empty build: empty, white space, null words."""

CUSTOMER_COLUMNS = [
    "customer_id",
    "email_hash",
    "city",
    "country_code",
    "gender",
    "income_band",
    "age_band",
    "count_source_records",
    "count_orders",
    "count_completed_orders",
    "count_cancelled_orders",
    "count_returned_orders",
    "lifetime_gross_revenue",
    "lifetime_net_revenue",
    "lifetime_gross_margin",
    "avg_order_value",
    "days_since_last_purchase",
    "avg_nps_score",
    "avg_csat_score",
    "count_tickets",
    "count_open_tickets",
    "is_in_crm",
    "is_in_shop",
    "is_in_transactions",
    "has_marketing_consent",
    "is_buyer",
    "is_repeat_buyer",
    "first_order_date",
    "last_order_date",
    "first_purchase_date",
    "last_purchase_date",
    "as_of_date",
    "signed_up_at",
]
"""dim_customers columns that depend on the customer's own records only (not
on quantiles or models fitted over all customers)."""


def write_with_customer_key(
    source_raw: Path, target_raw: Path, keys: dict[str, dict[str, str]]
) -> None:
    """Copy a raw directory, adding a `customer_key` column to the CRM and
    shop files: ``keys[table][id]`` where given, else one of BLANKS."""
    shutil.copytree(source_raw, target_raw)
    for table, id_column in KEYED_TABLES.items():
        path = target_raw / f"{table}.csv"
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        id_position = header.index(id_column)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*header, "customer_key"])
            for number, row in enumerate(body):
                record_id = row[id_position].strip()
                key = keys.get(table, {}).get(record_id, BLANKS[number % len(BLANKS)])
                writer.writerow([*row, key])


@dataclass
class Planted:
    """The planted keys and the records they were put on."""

    person: list[str]  # two shop accounts and one CRM contact: key "P-1"
    case_variant: str  # one shop account: key "p-1", a different key
    crowd: list[str]  # ten shop accounts: key "CROWD-1", more than the limit
    keys: dict[str, dict[str, str]]


@dataclass
class Builds:
    absent: Warehouse
    empty: Warehouse
    keyed: Warehouse
    planted: Planted


def plant(absent: Warehouse) -> Planted:
    """Keys on records that resolved alone: single-record customers with
    distinct emails; the shop accounts are buyers."""
    singles = absent.query(
        """
        select
            identity_map.record_key,
            identity_map.source_system,
            identity_map.source_customer_id,
            records.email,
            customers.count_orders
        from intermediate.int_customer_identity_map as identity_map
        inner join intermediate.int_customer_records_standardised as records
            on identity_map.record_key = records.record_key
        inner join marts.dim_customers as customers
            on identity_map.customer_id = customers.customer_id
        where identity_map.count_customer_records = 1
            and records.email is not null
        order by identity_map.record_key
        """
    )
    shops = singles[
        (singles["source_system"] == "shop") & (singles["count_orders"] > 0)
    ]
    crm = singles[singles["source_system"] == "crm"]
    assert len(shops) >= 13 and len(crm) >= 1, "too few single-record customers"
    shop_ids = shops["source_customer_id"].tolist()
    person_shops, case_variant, crowd = shop_ids[:2], shop_ids[2], shop_ids[3:13]
    person_crm = crm["source_customer_id"].iloc[0]
    keys = {
        # Surrounding white space is trimmed: still key P-1.
        "shop_accounts": {person_shops[0]: "P-1", person_shops[1]: " P-1\t"},
        "crm_contacts": {person_crm: "P-1 "},
    }
    keys["shop_accounts"][case_variant] = "p-1"
    keys["shop_accounts"].update({account: "CROWD-1" for account in crowd})
    return Planted(
        person=[f"crm:{person_crm}", *(f"shop:{a}" for a in person_shops)],
        case_variant=f"shop:{case_variant}",
        crowd=[f"shop:{a}" for a in crowd],
        keys=keys,
    )


@build_fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("customer_key")
    data_dir = generate(root / "data", "--customers", "400", "--seed", "5")
    absent = build(data_dir, root / "build_absent")
    planted = plant(absent)

    empty_dir = root / "data_empty"
    write_with_customer_key(data_dir / "raw", empty_dir / "raw", {})
    empty = build(empty_dir, root / "build_empty")

    keyed_dir = root / "data_keyed"
    write_with_customer_key(data_dir / "raw", keyed_dir / "raw", planted.keys)
    keyed = build(keyed_dir, root / "build_keyed")
    return Builds(absent, empty, keyed, planted)


def identity_map(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        "select record_key, customer_id, match_rule "
        "from intermediate.int_customer_identity_map"
    ).set_index("record_key")


def customers(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        f"select {', '.join(CUSTOMER_COLUMNS)} from marts.dim_customers"
    ).set_index("customer_id")


def test_an_empty_customer_key_column_changes_no_mart(builds: Builds):
    absent = table_digests(builds.absent.path)
    assert len(absent) >= 25
    assert table_digests(builds.empty.path) == absent
    assert identity_map(builds.empty).equals(identity_map(builds.absent))


def test_records_sharing_a_customer_key_are_one_customer(builds: Builds):
    planted = builds.planted
    before = identity_map(builds.absent)
    after = identity_map(builds.keyed)
    person_id = customer_id_for(min(planted.person))
    assert set(after.loc[planted.person, "customer_id"]) == {person_id}
    assert set(after.loc[planted.person, "match_rule"]) == {"customer_key"}
    # Different emails: only the key links them.
    emails = builds.absent.query(
        "select email from intermediate.int_customer_records_standardised "
        f"where record_key in ({', '.join(repr(k) for k in planted.person)})"
    )["email"]
    assert emails.nunique() == 3

    old_ids = before.loc[planted.person, "customer_id"]
    old = customers(builds.absent).loc[old_ids]
    merged = customers(builds.keyed).loc[person_id]
    assert merged["count_source_records"] == 3
    assert merged["is_in_crm"] and merged["is_in_shop"]
    assert merged["count_orders"] == old["count_orders"].sum()
    assert float(merged["lifetime_net_revenue"]) == pytest.approx(
        float(old["lifetime_net_revenue"].sum()), abs=0.005
    )
    assert merged["first_order_date"] == old["first_order_date"].min()


def test_customer_key_has_no_placeholder_limit_and_keeps_case(builds: Builds):
    planted = builds.planted
    before = identity_map(builds.absent)
    after = identity_map(builds.keyed)
    assert len(planted.crowd) == 10  # more than identity_max_group_size (8)
    crowd_id = customer_id_for(min(planted.crowd))
    assert set(after.loc[planted.crowd, "customer_id"]) == {crowd_id}
    assert customers(builds.keyed).loc[crowd_id, "count_source_records"] == 10
    # "p-1" is not "P-1": that account stays the customer it was.
    variant = after.loc[planted.case_variant]
    assert variant["customer_id"] == before.loc[planted.case_variant, "customer_id"]
    assert variant["match_rule"] == "unmatched"


def test_everything_else_is_unchanged(builds: Builds):
    planted = builds.planted
    before = identity_map(builds.absent)
    after = identity_map(builds.keyed)
    touched = set(planted.person) | set(planted.crowd)
    assert set(after.index) == set(before.index)
    untouched = sorted(set(before.index) - touched)
    pd.testing.assert_frame_equal(after.loc[untouched], before.loc[untouched])

    new_id = after["customer_id"]
    old_to_new = dict(zip(before["customer_id"], new_id[before.index], strict=True))
    changed = {old for old, new in old_to_new.items() if old != new}
    assert len(changed) == 2 + 9  # the three and the ten became one each

    old_customers = customers(builds.absent)
    new_customers = customers(builds.keyed)
    assert len(new_customers) == len(old_customers) - len(changed)
    kept = old_customers.index.difference(list(changed))
    kept = kept.difference([customer_id_for(min(planted.person))])
    kept = kept.difference([customer_id_for(min(planted.crowd))])
    pd.testing.assert_frame_equal(
        new_customers.loc[kept].sort_index(), old_customers.loc[kept].sort_index()
    )

    # Every order is the same, under its customer's new id; only the merged
    # customers' orders are numbered again, in one sequence per customer.
    # (built_at is when each build ran)
    orders_sql = "select * exclude (built_at) from marts.fct_orders order by order_id"
    old_orders = builds.absent.query(orders_sql)
    old_orders["customer_id"] = old_orders["customer_id"].map(old_to_new)
    new_orders = builds.keyed.query(orders_sql)
    sequence = ["customer_order_number", "is_repeat_order"]
    pd.testing.assert_frame_equal(
        new_orders.drop(columns=sequence), old_orders.drop(columns=sequence)
    )
    merged_ids = [
        customer_id_for(min(planted.person)),
        customer_id_for(min(planted.crowd)),
    ]
    is_merged = new_orders["customer_id"].isin(merged_ids)
    pd.testing.assert_frame_equal(new_orders[~is_merged], old_orders[~is_merged])
    for _, orders in new_orders[is_merged].groupby("customer_id"):
        orders = orders.sort_values(["ordered_at", "order_id"])
        assert orders["customer_order_number"].tolist() == list(
            range(1, len(orders) + 1)
        )
        prior_completed = orders["is_completed"].cumsum().shift(fill_value=0)
        assert orders["is_repeat_order"].tolist() == (prior_completed > 0).tolist()


def test_olist_style_transactions_resolve_by_customer_key(tmp_path: Path):
    """Olist gives every order its own customer id and the person a
    customer_unique_id: the transactions file carries them as customer_id and
    customer_key."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "transactions.csv").write_text(
        "customer_id,transacted_at,amount,order_id,customer_key\n"
        "o1,2024-01-05 10:00:00,10.50,INV-1,u-1\n"
        'o2,2024-02-05,20.00,INV-2," u-1 "\n'
        "o3,2024-03-05,5.00,INV-3,u-2\n"
        "o4,2024-03-06,7.00,INV-4,\n"
        "o5,2024-04-01,3.00,INV-5,U-1\n",
        encoding="utf-8",
    )
    warehouse = build(tmp_path / "data", tmp_path / "build")
    resolved = identity_map(warehouse)
    person_id = customer_id_for("transactions:o1")
    assert (
        resolved.loc[["transactions:o1", "transactions:o2"], "customer_id"]
        .eq(person_id)
        .all()
    )
    assert resolved["customer_id"].nunique() == 4
    assert set(resolved.loc[["transactions:o1", "transactions:o2"], "match_rule"]) == {
        "customer_key"
    }
    dim = customers(warehouse)
    assert len(dim) == 4
    assert dim.loc[person_id, "count_orders"] == 2
    assert float(dim.loc[person_id, "lifetime_net_revenue"]) == pytest.approx(30.50)
    assert dim.loc[person_id, "count_source_records"] == 2
