"""End to end: generate data with planted truth, run `dbt build` (models, dbt
data tests and unit tests), then check the warehouse against the truth."""

from __future__ import annotations

import csv
import json
import re
import shutil
from math import comb
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from helpers import (
    Warehouse,
    assert_association_rules_by_hand,
    build,
    generate,
    run_dbt,
)

from crm_analytics.contract import PROJECT_DIR, load_contract

pytestmark = pytest.mark.e2e

RAW_TABLES = [t.name for t in load_contract() if t.name != "transactions"]


def pair_count(sizes: pd.Series) -> int:
    return int(sum(comb(int(n), 2) for n in sizes))


def identity_scores(warehouse: Warehouse) -> tuple[float, float]:
    """Pairwise precision and recall of the identity map against the truth."""
    resolved = warehouse.query(
        "select source_system, source_customer_id as source_id, customer_id "
        "from intermediate.int_customer_identity_map"
    )
    truth = pd.read_csv(warehouse.data_dir / "truth" / "source_records.csv", dtype=str)
    joined = resolved.merge(truth, on=["source_system", "source_id"], how="inner")
    assert len(joined) == len(resolved), "every resolved record has a true person"
    true_positives = pair_count(joined.groupby(["customer_id", "person_id"]).size())
    predicted = pair_count(joined.groupby("customer_id").size())
    actual = pair_count(joined.groupby("person_id").size())
    return true_positives / predicted, true_positives / actual


def test_identity_resolution_precision_and_recall(demo_warehouse: Warehouse):
    precision, recall = identity_scores(demo_warehouse)
    print(f"identity precision={precision:.4f} recall={recall:.4f}")
    assert precision >= 0.99
    assert recall >= 0.97


def test_every_raw_row_is_reconciled_against_the_file(demo_warehouse: Warehouse):
    reconciliation = demo_warehouse.query(
        "select * from marts.dq_row_reconciliation"
    ).set_index("source_table")
    for table in RAW_TABLES:
        with open(
            demo_warehouse.data_dir / "raw" / f"{table}.csv",
            newline="",
            encoding="utf-8",
        ) as handle:
            rows_in_file = sum(1 for _ in csv.reader(handle)) - 1
        row = reconciliation.loc[table]
        assert row["count_rows_in"] == rows_in_file, table
        assert (
            row["count_kept"] + row["count_merged"] + row["count_quarantined"]
            == rows_in_file
        ), table


def test_planted_defects_get_their_planted_fate(demo_warehouse: Warehouse):
    defects = pd.read_csv(demo_warehouse.data_dir / "truth" / "defects.csv", dtype=str)
    quarantined = demo_warehouse.query(
        "select source_table, source_row_number, dq_reason "
        "from marts.dq_quarantined_rows"
    )
    quarantined["source_row_number"] = quarantined["source_row_number"].astype(str)
    planted = defects[defects["expected_status"] == "quarantined"]
    merged_view = planted.merge(
        quarantined,
        left_on=["table_name", "row_number"],
        right_on=["source_table", "source_row_number"],
        how="left",
    )
    missed = merged_view[merged_view["dq_reason"] != merged_view["expected_reason"]]
    assert missed.empty, (
        missed[
            ["table_name", "row_number", "defect_kind", "expected_reason", "dq_reason"]
        ]
        .head(20)
        .to_string()
    )

    # Nothing else is quarantined but lines whose order was quarantined.
    planted_keys = set(zip(planted["table_name"], planted["row_number"], strict=True))
    unplanted = quarantined[
        [
            (table, row) not in planted_keys
            for table, row in zip(
                quarantined["source_table"],
                quarantined["source_row_number"],
                strict=True,
            )
        ]
    ]
    assert set(unplanted["dq_reason"]) <= {"parent_quarantined"}, unplanted.head(
        20
    ).to_string()


def test_planted_duplicates_are_merged(demo_warehouse: Warehouse):
    defects = pd.read_csv(demo_warehouse.data_dir / "truth" / "defects.csv", dtype=str)
    planted = defects[defects["expected_status"] == "merged"]
    quarantined = demo_warehouse.query(
        "select source_table as table_name, "
        "cast(source_row_number as varchar) as row_number, dq_reason "
        "from marts.dq_quarantined_rows"
    )
    # A duplicate whose parent order was quarantined is quarantined with it.
    planted = planted.merge(quarantined, on=["table_name", "row_number"], how="left")
    assert set(planted["dq_reason"].dropna()) <= {"parent_quarantined"}
    expected = planted[planted["dq_reason"].isna()].groupby("table_name").size()
    reconciliation = demo_warehouse.query(
        "select source_table, count_merged from marts.dq_row_reconciliation"
    ).set_index("source_table")["count_merged"]
    for table in RAW_TABLES:
        assert reconciliation[table] == expected.get(table, 0), table


def test_customers_match_the_planted_people(demo_warehouse: Warehouse):
    persons = pd.read_csv(demo_warehouse.data_dir / "truth" / "persons.csv")
    customers = demo_warehouse.query(
        "select count(*) as n, count(*) filter (where is_buyer) as buyers "
        "from marts.dim_customers"
    ).iloc[0]
    # Identity resolution may leave a few people split (recall < 1) and
    # customers who sign up after as_of_date are not counted.
    assert 0.9 * len(persons) <= customers["n"] <= 1.03 * len(persons)
    assert customers["buyers"] > 0.5 * len(persons)


def test_order_lines_add_up_to_their_orders(demo_warehouse: Warehouse):
    mismatches = demo_warehouse.query(
        """
        with item_totals as (
            select
                order_id,
                count(*) as count_lines,
                sum(gross_line_amount) as lines_amount,
                sum(line_discount) as line_discount_amount
            from marts.fct_order_items
            group by 1
        )
        select orders.order_id
        from marts.fct_orders as orders
        left join item_totals on orders.order_id = item_totals.order_id
        where orders.source_system = 'shop'
            and (
                orders.count_lines <> coalesce(item_totals.count_lines, 0)
                or orders.lines_amount <> coalesce(item_totals.lines_amount, 0)
                or orders.line_discount_amount
                    <> coalesce(item_totals.line_discount_amount, 0)
            )
        """
    )
    assert mismatches.empty, mismatches.head().to_string()
    after_as_of = demo_warehouse.query(
        "select count(*) as n from marts.fct_orders, intermediate.int_as_of_date "
        "where order_date > as_of_date"
    )
    assert after_as_of["n"][0] == 0


def test_as_of_date_rebuilds_the_past(demo_warehouse: Warehouse, tmp_path: Path):
    # Same file name, other folder: dbt-duckdb's views name their catalog
    # (the file's stem), so a renamed copy would break the staging views.
    db_copy = tmp_path / "past" / demo_warehouse.path.name
    db_copy.parent.mkdir()
    shutil.copy(demo_warehouse.path, db_copy)
    result = run_dbt(
        [
            "run",
            "--select",
            "int_as_of_date+",
            "--vars",
            "{as_of_date: '2024-06-30'}",
        ],
        demo_warehouse.data_dir / "raw",
        db_copy,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    past = Warehouse(db_copy, demo_warehouse.data_dir, result)
    full_orders = demo_warehouse.query(
        "select customer_id, count(*) as n, sum(net_revenue) as net "
        "from marts.fct_orders where order_date <= date '2024-06-30' group by 1"
    ).set_index("customer_id")
    past_customers = past.query(
        "select customer_id, count_orders, lifetime_net_revenue, as_of_date "
        "from marts.dim_customers where count_orders > 0"
    ).set_index("customer_id")
    assert (past_customers["as_of_date"].astype(str) == "2024-06-30").all()
    assert past.query("select max(order_date) as d from marts.fct_orders")["d"][
        0
    ] <= pd.Timestamp("2024-06-30")
    joined = full_orders.join(past_customers, how="outer")
    assert (joined["n"] == joined["count_orders"]).all()
    assert (
        joined["net"].astype(float) - joined["lifetime_net_revenue"].astype(float)
    ).abs().max() < 0.005


def test_transactions_only_input_builds_from_typed_parquet(tmp_path: Path):
    """The minimal input, as a Parquet file with native types (timestamp,
    double), the way a user's export would come."""
    data_dir = generate(
        tmp_path / "data", "--customers", "300", "--seed", "3", "--transactions-only"
    )
    raw = data_dir / "raw"
    assert [p.name for p in raw.iterdir()] == ["transactions.csv"]
    file_rows = pd.read_csv(raw / "transactions.csv", dtype=str)
    typed = file_rows.assign(
        transacted_at=pd.to_datetime(file_rows["transacted_at"]),
        amount=file_rows["amount"].astype(float),
    )
    typed.to_parquet(raw / "transactions.parquet", index=False)
    (raw / "transactions.csv").unlink()
    warehouse = build(data_dir, tmp_path / "build")
    summary = warehouse.query(
        """
        select
            (select count(*) from marts.dim_customers) as customers,
            (select sum(gross_revenue) from marts.fct_orders) as revenue,
            (select count(*) from marts.fct_orders) as orders,
            (select count(*) from marts.dim_products) as products,
            (select count(*) from marts.fct_order_items) as items,
            (select min(order_date) from marts.fct_orders) as first_order_date
        """
    ).iloc[0]
    assert summary["customers"] == file_rows["customer_id"].nunique()
    assert summary["products"] == 0
    assert summary["items"] == 0
    assert summary["orders"] == file_rows["order_id"].nunique()
    assert pd.Timestamp(summary["first_order_date"]) == (
        typed["transacted_at"].min().normalize()
    )
    amounts = typed["amount"]
    assert float(summary["revenue"]) == pytest.approx(
        amounts[amounts > 0].sum(), abs=0.01
    )


def write_csv(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        (
            {"transactions.csv": "customer_id,amount\nA,1\n"},
            [],
            "lacks required column(s) transacted_at",
        ),
        ({}, [], "holds no files"),
        (
            {"products.csv": "product_id\nP1\n"},
            [],
            "No purchase data",
        ),
        (
            {"transactions.csv": "customer_id,transacted_at,amount\nA,2024-01-01,1\n"},
            ["--vars", "{as_of_date: 'last tuesday'}"],
            "as_of_date must be a date written YYYY-MM-DD",
        ),
    ],
)
def test_bad_input_stops_with_a_clear_message(
    tmp_path: Path, files: dict[str, str], extra: list[str], message: str
):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in files.items():
        write_csv(raw / name, text)
    result = run_dbt(["build", *extra], raw, tmp_path / "w.duckdb", tmp_path)
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]


def test_associations_equal_the_rules_counted_by_hand(demo_warehouse: Warehouse):
    rules = assert_association_rules_by_hand(demo_warehouse)
    assert set(rules["association_level"]) == {"product", "category"}


def test_planted_bundles_lead_the_associations_by_lift(demo_warehouse: Warehouse):
    bundles = pd.read_csv(demo_warehouse.data_dir / "truth" / "bundles.csv")
    rules = demo_warehouse.query(
        "select antecedents, consequents, confidence, lift, "
        "rank() over (order by lift desc) as lift_rank "
        "from marts.fct_product_associations where association_level = 'product'"
    )
    found = bundles.merge(
        rules,
        left_on=["antecedent_product_id", "consequent_product_id"],
        right_on=["antecedents", "consequents"],
        how="left",
    )
    # Both directions of each planted pair share a lift: the planted pairs
    # should fill the top 2 x len(bundles) places.
    assert (found["lift_rank"] <= 2 * len(bundles)).all(), found.to_string()
    assert (
        (found["confidence"] - found["p_consequent_given_antecedent"]).abs() < 0.15
    ).all(), found.to_string()


def test_planted_seasonal_buyers_are_flagged(demo_warehouse: Warehouse):
    flags = demo_warehouse.query(
        """
        select
            seasonality.is_seasonal_buyer,
            seasonality.count_completed_orders,
            identity_map.source_customer_id
        from marts.dim_customer_seasonality as seasonality
        inner join intermediate.int_customer_identity_map as identity_map
            on seasonality.customer_id = identity_map.customer_id
        where identity_map.source_system = 'shop'
        """
    )
    records = pd.read_csv(
        demo_warehouse.data_dir / "truth" / "source_records.csv", dtype=str
    )
    persons = pd.read_csv(
        demo_warehouse.data_dir / "truth" / "persons.csv", dtype={"person_id": str}
    )
    joined = (
        flags.merge(
            records[records["source_system"] == "shop"],
            left_on="source_customer_id",
            right_on="source_id",
        )
        .merge(persons, on="person_id")
        .drop_duplicates("person_id")
    )
    flagged = joined["is_seasonal_buyer"]
    seasonal = joined["is_seasonal"].astype(bool)
    precision = (flagged & seasonal).sum() / flagged.sum()
    rate_seasonal = flagged[seasonal].mean()
    rate_other = flagged[~seasonal].mean()
    # With few orders a seasonal buyer cannot be told apart; with six or
    # more, 80% of them in November-December, nearly all should be.
    observable = seasonal & (joined["count_completed_orders"] >= 6)
    recall_observable = flagged[observable].mean()
    print(
        f"seasonal precision={precision:.3f} flag rate seasonal={rate_seasonal:.3f} "
        f"other={rate_other:.3f} recall with 6+ orders={recall_observable:.3f}"
    )
    assert precision >= 0.6
    assert rate_seasonal >= 10 * rate_other
    assert recall_observable >= 0.8


def documented_models() -> dict[str, dict[str, str]]:
    """Model name -> {column: description} from every model YAML."""
    documented: dict[str, dict[str, str]] = {}
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []) or []:
            documented[model["name"]] = {
                column["name"]: column.get("description", "")
                for column in model.get("columns", [])
            }
    return documented


def test_every_mart_column_is_documented(demo_warehouse: Warehouse):
    columns = demo_warehouse.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    )
    documented = documented_models()
    for table, table_columns in columns.groupby("table_name"):
        assert table in documented, f"marts.{table} has no YAML entry"
        described = {name for name, text in documented[table].items() if text.strip()}
        missing = set(table_columns["column_name"]) - described
        assert not missing, f"marts.{table}: undocumented columns {sorted(missing)}"


def declared_checks() -> dict[str, int]:
    """Model name -> how many check constraints its YAML declares (its
    columns' and its own), for the models with an enforced contract."""
    checks: dict[str, int] = {}
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []) or []:
            contract = (model.get("config") or {}).get("contract") or {}
            if not contract.get("enforced"):
                continue
            declared = list(model.get("constraints", []))
            for column in model.get("columns", []):
                declared += column.get("constraints", [])
            count = sum(1 for c in declared if c["type"] == "check")
            if count:
                checks[model["name"]] = count
    return checks


# A row of each mart that breaks one of its checks (and no key): the
# insert must fail.
CHECK_VIOLATIONS = {
    # an accepted value
    "fct_orders": "* replace ('shipped' as order_status)",
    # a range
    "dim_customer_rfm": "* replace (7 as r_score, 'probe' as customer_id)",
    # an identity over columns
    "fct_order_items": "* replace (line_discount + 1 as line_discount)",
    # an identity whose result is null fails, as the test it replaced did
    "fct_nps_monthly": (
        "* replace (null as count_promoters, date '1900-01-01' as response_month)"
    ),
}


def test_the_marts_checks_are_enforced_by_the_database(
    demo_warehouse: Warehouse, tmp_path: Path
):
    """The row checks of the SQL marts are constraints of their contracts
    (docs/architecture.md, "Tests"): each declared check is in the built
    table, and DuckDB refuses a row that breaks one."""
    built = demo_warehouse.query(
        "select table_name, count(*) as n from duckdb_constraints() "
        "where schema_name = 'marts' and constraint_type = 'CHECK' group by 1"
    )
    assert dict(zip(built["table_name"], built["n"], strict=True)) == declared_checks()
    copy = tmp_path / "build.duckdb"
    shutil.copy(demo_warehouse.path, copy)
    with duckdb.connect(str(copy)) as connection:
        for table, row in CHECK_VIOLATIONS.items():
            # "CHECK": not refused by the primary key or a not null
            with pytest.raises(duckdb.ConstraintException, match="CHECK"):
                connection.execute(
                    f"insert into marts.{table} select {row} from marts.{table} limit 1"
                )


def test_each_model_without_an_enforced_contract_tests_its_constraints(
    demo_warehouse: Warehouse,
):
    """Where DuckDB does not check a model's declared constraints (no
    enforced contract: intermediate tables, Python models, seeds), one row_checks
    test does; a contracted model has none (docs/architecture.md)."""
    manifest = json.loads(
        (demo_warehouse.path.parent / "target" / "manifest.json").read_text()
    )
    row_checks: dict[str, int] = {}
    for node in manifest["nodes"].values():
        if (node.get("test_metadata") or {}).get("name") == "row_checks":
            model = node["attached_node"]
            row_checks[model] = row_checks.get(model, 0) + 1
    unchecked = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        declared = list(node.get("constraints", [])) + [
            c
            for column in node["columns"].values()
            for c in column.get("constraints", [])
        ]
        has_checks = any(c["type"] in ("check", "not_null") for c in declared)
        if (node["config"].get("contract") or {}).get("enforced"):
            assert uid not in row_checks, f"{uid}: enforced by its contract"
        elif has_checks and row_checks.get(uid) != 1:
            unchecked[uid] = row_checks.get(uid, 0)
    assert not unchecked, f"constraints no test checks: {unchecked}"
    assert len(row_checks) >= 40


def test_row_checks_fail_on_a_broken_row_and_name_what_it_breaks(
    demo_warehouse: Warehouse, tmp_path: Path
):
    """The row_checks test of an intermediate table and of a Python mart,
    on a copy of the demo build with rows broken: each fails, counting the
    broken rows and naming the checks each breaks; the untouched models'
    pass."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.path, copy)
    with duckdb.connect(str(copy)) as connection:
        # one row breaks a not_null and an accepted value, one a range
        connection.execute(
            "update intermediate.int_orders_validated "
            "set row_status = 'lost', source_row_number = null "
            "where source_row_number = (select min(source_row_number) "
            "from intermediate.int_orders_validated where row_status = 'merged')"
        )
        connection.execute(
            "update marts.fct_customer_churn_scores set p_churn = 1.5 "
            "where customer_id = (select min(customer_id) "
            "from marts.fct_customer_churn_scores)"
        )
    result = run_dbt(
        ["test", "--select", "test_name:row_checks", "--store-failures"],
        demo_warehouse.data_dir / "raw",
        copy,
        tmp_path,
    )
    output = result.stdout
    assert result.returncode == 1, output[-3000:]
    failed = re.findall(r"Failure in test (row_checks_\w+)", output)
    assert sorted(failed) == [
        "row_checks_fct_customer_churn_scores_",
        "row_checks_int_orders_validated_",
    ], output[-3000:]
    # dbt's summary counts a failed test as an error
    assert "ERROR=2 " in output, output[-3000:]
    with duckdb.connect(str(copy), read_only=True) as connection:
        stored = {
            table: connection.execute(
                f"select failed_checks from {schema}.{table}"
            ).fetchall()
            for schema, table in connection.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where table_name like 'row_checks_%'"
            ).fetchall()
        }
    # every row_checks test stored its failures: those of the others are empty
    assert len(stored) >= 30
    assert {table: rows for table, rows in stored.items() if rows} == {
        "row_checks_int_orders_validated_": [
            (
                [
                    "source_row_number is not null",
                    "row_status: row_status in ('kept', 'merged', 'quarantined')",
                ],
            )
        ],
        "row_checks_fct_customer_churn_scores_": [
            (["p_churn: p_churn >= 0 and p_churn <= 1"],)
        ],
    }
