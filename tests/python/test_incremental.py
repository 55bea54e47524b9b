"""Daily loads: the base data, then daily batches (with late and updated
rows) added one by one and built incrementally, give the same marts as a
full refresh on the same files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import generate, run_dbt, table_digests

from crm_analytics.ml.schedule import SCHEDULED_MODELS

INCREMENTAL_MODELS = (
    "int_orders_validated",
    "int_order_lines_validated",
    "int_web_events_validated",
    "int_email_events_validated",
    "int_order_documents",
    "int_order_refunds",
    "int_orders_enriched",
    "int_order_items_enriched",
    "int_order_baskets",
    "int_customer_order_history",
    "int_customer_months",
    "int_customer_product_purchases",
)
ORDER_CHAIN = INCREMENTAL_MODELS[4:]
"""Incremental by customer; the others by row."""
PER_CUSTOMER_BASE = "int_customer_order_summary"
"""Rebuilt in full from int_customer_order_history (one row per customer)."""
ORDER_MARTS = ("fct_orders", "fct_order_items", "fct_customer_months")
"""Marts that publish three of ORDER_CHAIN, incremental by customer too."""
PREFERENCE_MARTS = ("fct_customer_category_spend", "dim_customer_preferences")
"""Marts incremental by customer over the order marts and the catalogue."""


def dbt(command: list[str], raw_dir: Path, db_path: Path, work_dir: Path) -> str:
    result = run_dbt(command, raw_dir, db_path, work_dir)
    assert result.returncode == 0, result.stdout[-6000:]
    return result.stdout


def compiled(work_dir: Path, model: str) -> str:
    models = work_dir / "target" / "compiled" / "crm_analytics" / "models"
    (path,) = models.rglob(f"{model}.sql")
    return path.read_text()


def built_incrementally(work_dir: Path, model: str) -> bool:
    """Whether the model's last compiled SQL is its incremental form."""
    by_customer = (*ORDER_CHAIN, *ORDER_MARTS, *PREFERENCE_MARTS)
    scoped_by = f"{model}__changed" if model in by_customer else "changed_keys"
    return scoped_by in compiled(work_dir, model)


@pytest.fixture(scope="module")
def batched(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("batched")
    data = generate(
        root / "data", "--customers", "300", "--seed", "5", "--batch-days", "3"
    )
    return data / "raw"


def test_the_generator_writes_daily_batches_with_updated_rows(batched: Path) -> None:
    days = sorted(path.stem for path in (batched / "orders").iterdir())
    assert days == ["2025-06-28", "2025-06-29", "2025-06-30"]
    for table in ("order_lines", "web_events", "email_events"):
        assert sorted(p.stem for p in (batched / table).iterdir()) == days
    updated = [
        line
        for day in days
        for line in (batched / "orders" / f"{day}.csv").read_text().splitlines()
        if ",returned,".lower() in line.lower() and f"{day} 10:00:00" in line
    ]
    assert len(updated) >= 3


def rows(path: Path) -> list[str]:
    return path.read_text().splitlines()[1:]


def test_the_batches_and_the_base_hold_every_generated_row(
    batched: Path, tmp_path: Path
) -> None:
    whole = generate(tmp_path / "whole", "--customers", "300", "--seed", "5") / "raw"
    for table in ("order_lines", "web_events", "email_events"):
        split = rows(batched / f"{table}.csv")
        for batch in sorted((batched / table).iterdir()):
            split += rows(batch)
        assert sorted(split) == sorted(rows(whole / f"{table}.csv")), table
    # orders: every row once, plus the updated versions of earlier orders
    split = rows(batched / "orders.csv")
    for batch in sorted((batched / "orders").iterdir()):
        split += rows(batch)
    original = rows(whole / "orders.csv")
    assert not set(original) - set(split)
    extra = sorted(set(split) - set(original))
    assert extra and all(",returned," in line for line in extra)


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-05 10:00:00",  # ISO with a day under 13: not day-first
        " 2025-06-05 23:59:59 ",
        "2025-06-05T10:00:00Z",
        "05/06/2025 10:00",
        "2025/06/05 10:00:00",
    ],
)
def test_batch_days_read_each_timestamp_spelling_of_the_generator(text: str) -> None:
    from crm_analytics.generate.batches import _day

    assert _day(pd.Series([text])).tolist() == [pd.Timestamp("2025-06-05")]


def test_batch_days_of_unreadable_text_are_missing() -> None:
    from crm_analytics.generate.batches import _day

    assert _day(pd.Series(["not a date", "2024-13-45", ""])).isna().all()


@pytest.mark.e2e
def test_daily_batches_built_incrementally_equal_a_full_refresh(
    batched: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in batched.iterdir():
        if path.is_file():
            shutil.copy(path, raw / path.name)
    database = tmp_path / "incremental.duckdb"
    work = tmp_path / "incremental"
    dbt(["build"], raw, database, work)
    for model in (*INCREMENTAL_MODELS, *ORDER_MARTS, *PREFERENCE_MARTS):
        assert not built_incrementally(work, model), model

    base_fits = table_digests(database, "intermediate")
    days = sorted(path.stem for path in (batched / "orders").iterdir())
    assert len(days) < 7  # all within the default refit schedule
    for number, day in enumerate(days, start=1):
        for folder in (p for p in batched.iterdir() if p.is_dir()):
            (raw / folder.name).mkdir(exist_ok=True)
            shutil.copy(folder / f"{day}.csv", raw / folder.name / f"{day}.csv")
        if number < len(days):
            # Daily runs of the models keep the base build's fits
            log = dbt(["run"], raw, database, work)
            fits = table_digests(database, "intermediate")
            for model in SCHEDULED_MODELS:
                assert f"{model}: kept the fit as of" in log, model
                assert fits[model] == base_fits[model], model
        else:
            # the last one refits (as it would on its day of the schedule)
            # and runs the data tests too
            log = dbt(["build", "--vars", "{model_refit_days: 0}"], raw, database, work)
            for model in SCHEDULED_MODELS:
                assert f"{model}: fitted (the stored fit, as of" in log, model
        for model in (*INCREMENTAL_MODELS, *ORDER_MARTS, *PREFERENCE_MARTS):
            assert built_incrementally(work, model), model

    full = tmp_path / "full.duckdb"
    dbt(["build", "--full-refresh"], raw, full, tmp_path / "full")

    incremental_marts = table_digests(database)
    assert len(incremental_marts) >= 30
    assert incremental_marts == table_digests(full)
    intermediate = {
        table: digest
        for table, digest in table_digests(database, "intermediate").items()
        if table in INCREMENTAL_MODELS
    }
    assert len(intermediate) == len(INCREMENTAL_MODELS)
    assert intermediate == {
        table: digest
        for table, digest in table_digests(full, "intermediate").items()
        if table in INCREMENTAL_MODELS
    }

    # The raw-row test checks the rows of the latest run: a batch row gone
    # from the triage and an old row triaged twice by it are two failures.
    faulty = tmp_path / "faulty.duckdb"
    shutil.copy(database, faulty)
    lines = "intermediate.int_order_lines_validated"
    with duckdb.connect(str(faulty)) as connection:
        connection.execute(
            f"delete from {lines} where source_row_number = "
            "(select max(_row_number) from raw.order_lines)"
        )
        connection.execute(
            f"insert into {lines} select * replace ("
            f"(select max(triaged_at) from {lines}) as triaged_at) "
            f"from {lines} where source_row_number = 1"
        )
    result = run_dbt(
        ["test", "--select", "assert_raw_rows__all_accounted_for"],
        raw, faulty, tmp_path / "faulty",
    )  # fmt: skip
    assert result.returncode != 0
    assert "Got 2 results" in result.stdout, result.stdout[-3000:]

    # A loaded file that changed reloads its table, and the next run refits
    # (a run on the same day with the same files keeps the fits); so does a
    # changed setting.
    select = ["--select", "int_model_fit_context", *SCHEDULED_MODELS]
    log = dbt(["run", *select], raw, database, work)
    assert "int_clv_parameters: kept the fit as of" in log
    orders = raw / "orders.csv"
    orders.write_text("".join(orders.read_text().splitlines(keepends=True)[:-1]))
    log = dbt(["run", *select], raw, database, work)
    for model in SCHEDULED_MODELS:
        assert f"{model}: fitted (raw data was reloaded since the stored fit)" in log
    log = dbt(
        ["run", *select, "--vars", "{churn_horizon_days: 60}"], raw, database, work
    )
    for model in SCHEDULED_MODELS:
        assert f"{model}: fitted (a setting changed since the stored fit)" in log


@pytest.mark.e2e
def test_a_later_batch_changes_the_fate_of_lines_already_triaged(
    batched: Path, tmp_path: Path
) -> None:
    """int_order_lines_validated's recheck: a line whose order arrives in a
    later batch is kept then (it was unknown_order), and a credited line
    becomes valid when a later version of its order is a credit note (it
    was invalid_quantity). Built batch by batch, the model equals a full
    refresh on the same files."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in batched.iterdir():
        if path.is_file():
            shutil.copy(path, raw / path.name)
    orders = pd.read_csv(batched / "orders.csv", dtype=str)
    lines = pd.read_csv(batched / "order_lines.csv", dtype=str)
    credited = orders[orders["status"] == "completed"].iloc[0]
    product = lines.iloc[0]
    select = [
        "--select", "+int_order_lines_validated",
        "--exclude-resource-type", "test", "unit_test",
    ]  # fmt: skip
    database = tmp_path / "incremental.duckdb"
    work = tmp_path / "incremental"

    def fates() -> dict[tuple[str, str], str]:
        with duckdb.connect(str(database), read_only=True) as connection:
            found = connection.execute(
                "select order_id, line_number, coalesce(dq_reason, row_status) "
                "from intermediate.int_order_lines_validated "
                "where order_id = 'LATE-1' or line_number = 99"
            ).fetchall()
        return {(order, str(line)): fate for order, line, fate in found}

    dbt(["build", *select], raw, database, work)
    (raw / "order_lines").mkdir()
    (raw / "order_lines" / "2025-07-01.csv").write_text(
        "order_id,line_number,product_id,quantity,unit_price,line_discount\n"
        f"LATE-1,1,{product.product_id},1,{product.unit_price},0.00\n"
        f"{credited.order_id},99,{product.product_id},-1,"
        f"{product.unit_price},0.00\n"
    )
    dbt(["build", *select], raw, database, work)
    assert "changed_keys" in compiled(work, "int_order_lines_validated")
    assert fates() == {
        ("LATE-1", "1"): "unknown_order",
        (credited.order_id, "99"): "invalid_quantity",
    }

    (raw / "orders").mkdir()
    header = ",".join(orders.columns)
    (raw / "orders" / "2025-07-02.csv").write_text(
        f"{header}\n"
        f"LATE-1,{credited.account_id},2025-06-01 10:00:00,completed,web,0.00,"
        "0.00,2025-06-01 10:00:00\n"
        f"{credited.order_id},{credited.account_id},{credited.ordered_at},"
        f"credit_note,{credited.channel},0.00,0.00,2025-07-02 10:00:00\n"
    )
    dbt(["build", *select], raw, database, work)
    assert fates() == {("LATE-1", "1"): "kept", (credited.order_id, "99"): "kept"}

    full = tmp_path / "full.duckdb"
    dbt(["build", "--full-refresh", *select], raw, full, tmp_path / "full")
    incremental = table_digests(database, "intermediate")
    refreshed = table_digests(full, "intermediate")
    for model in ("int_orders_validated", "int_order_lines_validated"):
        assert incremental[model] == refreshed[model], model


@pytest.mark.e2e
def test_order_chain_follows_identity_account_transactions_cost_and_date_changes(
    batched: Path, tmp_path: Path
) -> None:
    """The order models incremental by customer (int_order_documents, the
    models after it, the per-customer base's history, the customer months,
    the marts publishing them and the preference marts) equal a full
    refresh after each change they must follow: two shop accounts that now
    resolve to one customer (the accounts file changed), an order whose
    later version names another account, a transactions file that appears
    (with a refund of a customer without sales) and then loses a customer
    (built by customer, without a full rebuild), as_of_date set back,
    moved by a day on which nothing is dated (the recommendations'
    purchases rebuilt for the lines its splits cross) and then unset, NPS
    responses and tickets that changed (built by customer)
    together with a product's brand (dim_customer_preferences rebuilt in
    full, saying why), a product whose cost changed (int_order_documents
    rebuilt in full, saying why), a product in a new category
    (int_order_baskets and both preference marts rebuilt in full, saying
    why), and changed RFM, churn and holdout settings
    (int_customer_order_history, int_customer_months and
    int_customer_product_purchases rebuilt in full, saying why)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in batched.iterdir():
        if path.is_file():
            shutil.copy(path, raw / path.name)
    select = [
        "--select", "+fct_order_items", "+fct_orders", "+fct_customer_months",
        f"+{PER_CUSTOMER_BASE}", "+int_order_baskets", "+dim_customer_preferences",
        "+int_customer_product_purchases",
        "--exclude-resource-type", "test", "unit_test",
    ]  # fmt: skip
    database = tmp_path / "incremental.duckdb"
    work = tmp_path / "incremental"

    def equals_a_full_refresh(step: str, *settings: str) -> None:
        full = tmp_path / f"full-{step}.duckdb"
        command = ["build", "--full-refresh", *select, *settings]
        dbt(command, raw, full, tmp_path / step)
        for schema, models in (
            ("intermediate", (*ORDER_CHAIN, PER_CUSTOMER_BASE)),
            ("marts", (*ORDER_MARTS, *PREFERENCE_MARTS)),
        ):
            incremental = table_digests(database, schema)
            refreshed = table_digests(full, schema)
            for model in models:
                assert incremental[model] == refreshed[model], (step, model)

    def owners() -> dict[str, str]:
        with duckdb.connect(str(database), read_only=True) as connection:
            return dict(
                connection.execute(
                    "select order_id, customer_id from intermediate.int_order_documents"
                ).fetchall()
            )

    dbt(["build", *select], raw, database, work)
    before = owners()
    with duckdb.connect(str(database), read_only=True) as connection:
        # one shop sale of each of four accounts of four customers
        sales = connection.execute(
            "select source_customer_id, any_value(order_id) "
            "from intermediate.int_order_documents "
            "where source_system = 'shop' and not is_credit_note "
            "group by 1 having count(distinct customer_id) = 1 "
            "and count(*) = 1 order by 1 limit 4"
        ).fetchall()
    first, second, third, fourth = sales
    merged_order, other_order, moved_order = first[1], second[1], third[1]
    assert len({before[order] for _, order in sales}) == 4
    orders = pd.read_csv(raw / "orders.csv", dtype=str, keep_default_na=False)
    accounts = pd.read_csv(raw / "shop_accounts.csv", dtype=str, keep_default_na=False)
    moved = orders[orders["order_id"] == moved_order].iloc[[-1]].copy()

    # the second account now has the first one's email and name: one person
    for column in ("full_name", "email", "phone", "birth_date"):
        value = accounts.loc[accounts["account_id"] == first[0], column].item()
        accounts.loc[accounts["account_id"] == second[0], column] = value
    accounts.to_csv(raw / "shop_accounts.csv", index=False)
    # a later version of the third account's order names the fourth account
    moved["account_id"] = fourth[0]
    moved["updated_at"] = "2025-07-01 10:00:00"
    (raw / "orders").mkdir()
    moved.to_csv(raw / "orders" / "2025-07-01.csv", index=False)
    (raw / "transactions.csv").write_text(
        "customer_id,order_id,customer_key,amount,transacted_at\n"
        "X1,TX-1,,20.00,2025-06-01 10:00:00\n"
        "X1,TX-2,,15.00,2025-06-02 10:00:00\n"
        "X2,TX-3,,30.00,2025-06-03 10:00:00\n"
        "X3,,,-5.00,2025-06-04 10:00:00\n"
    )
    log = dbt(["build", *select], raw, database, work)
    for model in (*ORDER_CHAIN, *ORDER_MARTS, *PREFERENCE_MARTS):
        assert built_incrementally(work, model), model
        assert f"{model}: " not in log, model  # not rebuilt in full
    after = owners()
    assert after[merged_order] == after[other_order]
    assert after[moved_order] == before[fourth[1]]
    assert {"TX-1", "TX-2", "TX-3"} <= set(after)
    equals_a_full_refresh("identity")

    (raw / "transactions.csv").write_text(
        "customer_id,order_id,customer_key,amount,transacted_at\n"
        "X1,TX-1,,20.00,2025-06-01 10:00:00\n"
        "X1,TX-2,,15.00,2025-06-02 10:00:00\n"
        "X3,,,-7.00,2025-06-04 10:00:00\n"
    )
    log = dbt(["build", *select], raw, database, work)
    assert "int_order_documents: " not in log
    assert "TX-3" not in owners()
    equals_a_full_refresh("transactions")

    earlier = ["--vars", "{as_of_date: '2025-06-01'}"]
    dbt(["build", *select, *earlier], raw, database, work)
    assert built_incrementally(work, "int_orders_enriched")
    equals_a_full_refresh("earlier", *earlier)

    # as_of_date moves by one day on which nothing is dated: no order model
    # rebuilds anyone, but the recommendations' splits (var
    # recommendation_holdout_days, 90 by default) move across the lines
    # dated a split's length before it
    with duckdb.connect(str(database), read_only=True) as connection:
        (day,) = connection.execute(
            "select min(items.order_date + 90) "
            "from intermediate.int_order_items_enriched as items "
            "where items.order_date + 90 < date '2025-06-01' "
            "and not exists (select 1 from intermediate.int_order_documents as d "
            "where cast(d.ordered_at as date) in (items.order_date + 90, "
            "items.order_date + 89) "
            "or cast(d.recorded_refunded_at as date) "
            "in (items.order_date + 90, items.order_date + 89))"
        ).fetchone()
    assert day is not None
    for as_of in (day - dt.timedelta(days=1), day):
        on_day = ["--vars", f"{{as_of_date: '{as_of}'}}"]
        dbt(["build", *select, *on_day], raw, database, work)
    assert built_incrementally(work, "int_customer_product_purchases")
    with duckdb.connect(str(database), read_only=True) as connection:
        (split_only,) = connection.execute(
            "select count(*) from ("
            "select customer_id, max(built_at) as built_at "
            "from intermediate.int_customer_product_purchases group by 1) as p "
            "inner join (select customer_id, max(built_at) as built_at "
            "from intermediate.int_order_items_enriched group by 1) as i "
            "using (customer_id) where p.built_at > i.built_at"
        ).fetchone()
    assert split_only > 0  # customers rebuilt for the split move alone
    equals_a_full_refresh("split", *on_day)
    dbt(["build", *select], raw, database, work)
    equals_a_full_refresh("unset")

    # a response's score, another's month and a ticket change
    responses = pd.read_csv(
        raw / "survey_responses.csv", dtype=str, keep_default_na=False
    )
    scored = responses[responses["nps_score"] != ""].index
    responses.loc[scored[0], "nps_score"] = (
        "0" if responses.loc[scored[0], "nps_score"] != "0" else "10"
    )
    responses.loc[scored[1], "responded_at"] = "2024-02-10 10:00:00"
    responses.to_csv(raw / "survey_responses.csv", index=False)
    tickets = (raw / "tickets.csv").read_text().splitlines(keepends=True)
    (raw / "tickets.csv").write_text("".join(tickets[:-1]))
    # and a product's brand: no order changed, so only the preferences'
    # digest can tell its buyers' brand priorities are stale
    products = (raw / "products.csv").read_text().splitlines(keepends=True)
    fields = products[3].split(",")
    fields[4] = '"Brand of its own"'
    products[3] = ",".join(fields)
    (raw / "products.csv").write_text("".join(products))
    log = dbt(["build", *select], raw, database, work)
    for model in ("int_customer_months", "fct_customer_months"):
        assert built_incrementally(work, model), model
        assert f"{model}: " not in log, model
    assert (
        "dim_customer_preferences: the catalogue's categories or brands changed, "
        "or discounts appeared or vanished; rebuilding it in full" in log
    )
    # the categories did not change: by customer
    assert built_incrementally(work, "fct_customer_category_spend")
    assert "fct_customer_category_spend: " not in log
    equals_a_full_refresh("satisfaction")

    fields = products[1].split(",")
    fields[-1] = '"1.23"\n'
    products[1] = ",".join(fields)
    (raw / "products.csv").write_text("".join(products))
    log = dbt(["build", *select], raw, database, work)
    assert (
        "int_order_documents: the products' costs changed; rebuilding it in full" in log
    )
    # the keys of the baskets' items did not change: rebuilt by customer
    assert built_incrementally(work, "int_order_baskets")
    assert "int_order_baskets: " not in log
    equals_a_full_refresh("costs")

    # a product moves to a new category: every category key after it moves
    fields = products[2].split(",")
    fields[2] = '"aaa_first_category"'
    products[2] = ",".join(fields)
    (raw / "products.csv").write_text("".join(products))
    log = dbt(["build", *select], raw, database, work)
    assert (
        "int_order_baskets: the catalogue's products or categories changed; "
        "rebuilding it in full" in log
    )
    assert (
        "fct_customer_category_spend: the catalogue's categories changed; "
        "rebuilding it in full" in log
    )
    assert "dim_customer_preferences: the catalogue's categories or brands" in log
    equals_a_full_refresh("category")

    weekly = ["--vars", "{rfm_time_unit: week, rfm_period_grain: week}"]
    log = dbt(["build", *select, *weekly], raw, database, work)
    assert (
        "int_customer_order_history: rfm_time_unit or rfm_period_grain changed; "
        "rebuilding it in full" in log
    )
    assert "int_order_documents: " not in log
    equals_a_full_refresh("weekly", *weekly)

    churn = ["--vars", "{churn_inactivity_days: 60, recommendation_holdout_days: 20}"]
    log = dbt(["build", *select, *churn], raw, database, work)
    assert "int_customer_months: churn_inactivity_days changed; rebuilding" in log
    assert (
        "int_customer_product_purchases: recommendation_holdout_days changed; "
        "rebuilding" in log
    )
    equals_a_full_refresh("churn", *churn)
