"""End to end: the ML marts of the README's demo build (5,000 customers,
seed 42) against the planted truth (personas, anomalies, churn) and against
simple baselines."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from helpers import Warehouse, build, run_dbt
from sklearn.metrics import adjusted_rand_score

pytestmark = pytest.mark.e2e


def persons_of_customers(warehouse: Warehouse) -> pd.DataFrame:
    """Each resolved customer with its planted person (the majority one)."""
    resolved = warehouse.query(
        "select customer_id, source_system, source_customer_id as source_id "
        "from intermediate.int_customer_identity_map"
    )
    truth = warehouse.data_dir / "truth"
    records = pd.read_csv(truth / "source_records.csv", dtype=str)
    persons = pd.read_csv(truth / "persons.csv", dtype=str)
    joined = resolved.merge(records, on=["source_system", "source_id"]).merge(
        persons, on="person_id"
    )
    majority = joined.groupby("customer_id")["person_id"].agg(
        lambda s: s.mode().iloc[0]
    )
    return (
        persons.set_index("person_id")
        .loc[majority.to_numpy()]
        .assign(customer_id=majority.index.to_numpy())
    )


def metrics(warehouse: Warehouse, model_name: str) -> dict[str, float]:
    """The published candidate's metrics of a model, by name."""
    frame = warehouse.query(
        "select metric_name, metric_value from marts.fct_ml_model_metrics "
        f"where model_name = '{model_name}' and is_published"
    )
    assert frame["metric_name"].is_unique
    return dict(zip(frame["metric_name"], frame["metric_value"], strict=True))


def candidates(warehouse: Warehouse, model_name: str) -> pd.DataFrame:
    """candidate x metric of a champion-challenger model, with is_published."""
    frame = warehouse.query(
        "select candidate, metric_name, metric_value, is_published "
        "from marts.fct_ml_model_metrics "
        f"where model_name = '{model_name}' and candidate <> 'category_affinity'"
    )
    wide = frame.pivot_table(
        index="candidate", columns="metric_name", values="metric_value"
    )
    published = frame.loc[frame["is_published"], "candidate"].unique()
    assert len(published) == 1
    return wide.assign(is_published=wide.index == published[0])


def test_every_buyer_gets_a_segment_that_recovers_the_planted_personas(
    ml_warehouse: Warehouse,
):
    segments = ml_warehouse.query(
        "select s.customer_id, s.segment_id, s.is_clustered, f.count_purchase_days "
        "from marts.dim_customer_segments as s "
        "inner join intermediate.int_customer_feature_snapshots as f "
        "on s.customer_id = f.customer_id and f.snapshot_name = 'current'"
    )
    buyers = ml_warehouse.query(
        "select customer_id from marts.dim_customers where is_buyer"
    )
    # coverage: every buyer, one-time buyers included, has a real segment
    assert set(segments["customer_id"]) == set(buyers["customer_id"])
    assert segments["segment_id"].str.startswith("seg_").all()
    assert (segments["count_purchase_days"] == 1).sum() > 500
    measured = metrics(ml_warehouse, "segmentation")
    assert measured["coverage"] == 1.0 and measured["fitted"] == 1.0
    assert measured["k"] == 5
    truth = persons_of_customers(ml_warehouse)
    joined = segments.merge(truth, on="customer_id")
    assert len(joined) == len(segments)
    over_all = adjusted_rand_score(joined["persona"], joined["segment_id"])
    established = joined.loc[joined["count_purchase_days"] >= 5]
    # the former scheme: buyers below five purchase days in one group
    former = joined["segment_id"].where(joined["count_purchase_days"] >= 5, "early")
    former_ari = adjusted_rand_score(joined["persona"], former)
    # measured 0.629 over all buyers (0.865 on buyers with 5+ purchase days,
    # the population the former scheme clustered, where it scored 0.807)
    # against 0.373 for the former scheme over all buyers; the 0.8
    # over all buyers is not reached (docs/ml_models.md: one order does not
    # show a regular's frequency)
    assert over_all >= 0.6
    assert adjusted_rand_score(established["persona"], established["segment_id"]) >= 0.8
    assert former_ari < 0.45 and over_all > former_ari + 0.2
    candidates = ml_warehouse.query(
        "select candidate, metric_value, is_published from marts.fct_ml_model_metrics "
        "where model_name = 'segmentation' and metric_name = 'coverage'"
    ).set_index("candidate")
    assert candidates.loc["kmeans_early_stage_apart", "metric_value"] == (
        pytest.approx((joined["count_purchase_days"] >= 5).mean())
    )
    assert candidates["is_published"].to_dict() == {
        "kmeans_nearest_centroid": True,
        "kmeans_early_stage_apart": False,
    }


def test_segment_profiles_add_up(ml_warehouse: Warehouse):
    totals = ml_warehouse.query(
        "select sum(count_customers) as n, sum(pct_customers) as pct, "
        "sum(pct_net_revenue) as revenue, "
        "sum(pct_net_revenue_with_anomalies) as revenue_all, "
        "sum(count_anomalous_customers) as anomalous, "
        "sum(sum_lifetime_net_revenue) as marketing_revenue "
        "from marts.fct_segment_profiles"
    ).iloc[0]
    buyers = ml_warehouse.query(
        "select count(*) as n, count(*) filter (where is_anomaly) as anomalous, "
        "sum(lifetime_net_revenue) filter (where not is_anomaly) as revenue "
        "from marts.dim_customers where is_buyer"
    ).iloc[0]
    assert totals["n"] == buyers["n"]
    assert totals["anomalous"] == buyers["anomalous"] > 0
    assert float(totals["marketing_revenue"]) == pytest.approx(float(buyers["revenue"]))
    assert totals["pct"] == pytest.approx(1)
    assert totals["revenue"] == pytest.approx(1)
    assert totals["revenue_all"] == pytest.approx(1)


def test_flagged_customers_leave_the_marketing_outputs(ml_warehouse: Warehouse):
    """The finding of issue 17 on this data set, reproduced with the
    dashboard's own queries and anomalies put back in, then the defaults."""
    from crm_analytics.dashboard import queries
    from crm_analytics.dashboard.data import Filters

    path = ml_warehouse.path
    everything = Filters(*queries.date_bounds(path))
    flagged = ml_warehouse.query(
        "select customer_id from marts.fct_customer_anomalies where is_anomaly"
    )["customer_id"]
    assert len(flagged) == 24
    # before: with the flagged customers, they own the top of the rankings
    calls = queries.churn_risk_list(path, everything, 10, include_anomalies=True)
    top_clv = queries.top_clv_customers(path, everything, 6, include_anomalies=True)
    assert calls["is_anomaly"].sum() >= 5
    assert top_clv["is_anomaly"].all()
    # after: the defaults hold none of them
    assert not queries.churn_risk_list(path, everything, 1000)["is_anomaly"].any()
    assert not queries.top_clv_customers(path, everything, 1000)["is_anomaly"].any()
    actions = ml_warehouse.query(
        "select a.action, a.is_anomaly from marts.fct_customer_next_best_action as a"
    )
    assert set(actions.loc[actions["is_anomaly"], "action"]) == {"review_account"}
    assert actions["is_anomaly"].sum() == len(flagged)
    assert "review_account" not in set(actions.loc[~actions["is_anomaly"], "action"])
    measured = metrics(ml_warehouse, "anomalies")
    assert measured["flagged_with_marketing_action"] == 0
    assert measured["pct_net_revenue_flagged"] > 0.3


def test_churn_model_is_evaluated_out_of_time_and_beats_chance(
    ml_warehouse: Warehouse,
):
    churn = metrics(ml_warehouse, "churn")
    # The planted behaviour caps what any model can reach on this label: see
    # docs/ml_models.md. The published model must clearly beat chance and be
    # calibrated on the period it never saw.
    assert churn["fitted"] == 1
    assert churn["roc_auc"] >= 0.7
    assert churn["top_decile_lift"] >= 1.5
    # calibrated on the latest labelled window: the level is right there
    assert churn["mean_predicted"] == pytest.approx(churn["test_label_rate"], abs=0.01)
    assert churn["ece"] < 0.05
    purchase = metrics(ml_warehouse, "purchase_propensity")
    assert purchase["fitted"] == 1
    assert purchase["roc_auc"] >= 0.7
    assert purchase["category_hit_rate"] > purchase["category_baseline_hit_rate"]


@pytest.mark.parametrize(
    ("model_name", "snapshot", "where", "label"),
    [
        ("churn", "churn_test", "is_active", "count_horizon_purchase_days = 0"),
        (
            "purchase_propensity",
            "purchase_test",
            "true",
            "count_horizon_purchase_days > 0",
        ),
    ],
)
def test_every_candidate_is_judged_and_the_best_is_published(
    ml_warehouse: Warehouse, model_name, snapshot, where, label
):
    wide = candidates(ml_warehouse, model_name)
    assert set(wide.index) == {
        "gradient_boosting",
        "logistic",
        "heuristic_count_purchase_days",
        "heuristic_days_since_last_purchase",
    }
    # the published candidate is never worse on the primary metric
    best = wide.loc[wide["is_published"]].iloc[0]
    assert (best["log_loss"] <= wide["log_loss"]).all()
    # on the demo the behaviour features carry more than one feature alone
    heuristics = wide.loc[wide.index.str.startswith("heuristic_")]
    assert (best["log_loss"] < heuristics["log_loss"] - 0.02).all()
    # the test window's size and label rate, counted independently
    truth = ml_warehouse.query(
        f"select count(*) as n, avg(case when {label} then 1.0 else 0 end) as rate "
        "from intermediate.int_customer_feature_snapshots "
        f"where snapshot_name = '{snapshot}' and {where}"
    ).iloc[0]
    assert (wide["test_rows"] == truth["n"]).all()
    assert wide["test_label_rate"].to_numpy() == pytest.approx(truth["rate"])
    assert (wide["ece"].between(0, 1)).all()


def test_churn_scores_rank_truly_churned_customers_higher(ml_warehouse: Warehouse):
    scores = ml_warehouse.query(
        "select customer_id, p_churn from marts.fct_customer_churn_scores"
    )
    truth = persons_of_customers(ml_warehouse)
    as_of = ml_warehouse.query("select as_of_date from marts.fct_ml_model_metrics")
    as_of = pd.Timestamp(as_of["as_of_date"].iloc[0])
    churned_at = pd.to_datetime(truth["churned_at"], utc=True, errors="coerce")
    truth["has_churned"] = churned_at.dt.tz_localize(None) <= as_of
    joined = scores.merge(truth[["customer_id", "has_churned"]], on="customer_id")
    means = joined.groupby("has_churned")["p_churn"].mean()
    assert means[True] > means[False] + 0.1


def test_every_buyer_gets_one_next_best_action(ml_warehouse: Warehouse):
    actions = ml_warehouse.query(
        "select c.customer_id, a.action from marts.dim_customers as c "
        "left join marts.fct_customer_next_best_action as a using (customer_id) "
        "where c.is_buyer"
    )
    assert actions["action"].notna().all()
    counts = actions["action"].value_counts()
    # the playbook is exercised, not collapsed onto one action
    assert len(counts) >= 4
    assert counts.max() < 0.8 * len(actions)


def test_planted_anomalies_are_found(ml_warehouse: Warehouse):
    flagged = ml_warehouse.query(
        "select customer_id, is_anomaly from marts.fct_customer_anomalies"
    )
    truth = persons_of_customers(ml_warehouse)[["customer_id", "is_anomalous"]]
    joined = flagged.merge(truth, on="customer_id", how="left")
    planted = joined["is_anomalous"].eq("true")
    hits = (joined["is_anomaly"] & planted).sum()
    assert hits / planted.sum() >= 0.9
    assert hits / joined["is_anomaly"].sum() >= 0.8


def recommendation_candidates(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        "select candidate, metric_name, metric_value, is_published, note "
        "from marts.fct_ml_model_metrics where model_name = 'recommendations'"
    )


def test_the_published_recommender_beats_every_other_candidate(
    ml_warehouse: Warehouse,
):
    frame = recommendation_candidates(ml_warehouse)
    hit = frame.loc[frame["metric_name"] == "hit_rate_at_10"].set_index("candidate")
    assert sorted(hit.index) == ["ease", "item_cosine", "popularity"]
    published = hit.index[hit["is_published"]].tolist()
    assert len(published) == 1 and published[0] != "popularity"
    best = hit.loc[published[0], "metric_value"]
    assert (best >= hit["metric_value"]).all()
    customers = frame.loc[frame["metric_name"] == "evaluation_customers"]
    assert customers["metric_value"].nunique() == 1
    assert customers["metric_value"].iloc[0] > 500
    # popularity's hit rate, recomputed here in SQL from the order lines: the
    # 10 products with most buyers up to the holdout start that a customer
    # may still be offered, against what they bought after it
    assert hit.loc["popularity", "metric_value"] == pytest.approx(
        popularity_hit_rate(ml_warehouse), abs=1e-12
    )
    # On this generator products are drawn from category mixes and global
    # popularity, so no model reaches 1.5x popularity (docs/ml_models.md:
    # an oracle that knows each person's persona and favourite category
    # gets about 1.3x). EASE's figure on the full demo is 1.09x.
    lift = frame.loc[
        (frame["candidate"] == published[0])
        & (frame["metric_name"] == "hit_rate_lift_over_popularity"),
        "metric_value",
    ].iloc[0]
    assert lift >= 1.05
    fitted = frame.loc[frame["metric_name"] == "fitted"]
    assert fitted["candidate"].tolist() == published
    assert fitted["metric_value"].tolist() == [1.0]
    assert fitted["note"].iloc[0].startswith("published: the highest hit_rate_at_10")
    ranks = ml_warehouse.query(
        "select count(distinct customer_id) as customers, max(recommendation_rank) "
        "as deepest from marts.fct_customer_recommendations"
    ).iloc[0]
    assert ranks["deepest"] == 10 and ranks["customers"] > 3000


def popularity_hit_rate(warehouse: Warehouse) -> float:
    """Popularity's hit rate at 10 on the time split, from fct_order_items,
    fct_orders and fct_refunds in SQL (a product is blocked for a customer
    when they bought it before the holdout start, unless it is a
    repeat-purchase product, or returned it before then)."""
    return warehouse.query(
        """
        with split as (
            select as_of_date - 90 as holdout_start
            from intermediate.int_as_of_date
        ),
        lines as (
            select i.customer_id, i.product_id, i.order_date,
                i.is_completed and o.net_revenue > 0 as is_bought
            from marts.fct_order_items as i
            inner join marts.fct_orders as o on i.order_id = o.order_id
            where i.is_completed or i.order_status = 'returned'
            union all
            select r.customer_id, l.product_id, r.refund_date, false
            from marts.fct_refunds as r
            inner join intermediate.int_order_lines_validated as l
                on r.refund_id = l.order_id and l.row_status = 'kept'
            where r.refund_source = 'credit_note'
        ),
        before as (
            select customer_id, product_id,
                count(*) filter (where is_bought) as n_bought,
                bool_or(not is_bought) as is_returned
            from lines, split where order_date <= holdout_start
            group by all
        ),
        products as (
            select product_id, count(*) as buyers,
                avg(case when n_bought >= 2 then 1 else 0 end) as repeat_share
            from before where n_bought > 0 group by all
        ),
        blocked as (
            select b.customer_id, b.product_id
            from before as b left join products as p using (product_id)
            where b.is_returned or (
                b.n_bought > 0
                and not (p.buyers >= 20 and p.repeat_share >= 0.5)
            )
        ),
        buyers as (select distinct customer_id from before where n_bought > 0),
        offered as (
            select customer_id, product_id from (
                select c.customer_id, p.product_id, row_number() over (
                    partition by c.customer_id
                    order by p.buyers desc, p.product_id) as rank
                from buyers as c cross join products as p
                where not exists (
                    select 1 from blocked as x
                    where x.customer_id = c.customer_id
                        and x.product_id = p.product_id)
            ) where rank <= 10
        ),
        targets as (
            select distinct l.customer_id, l.product_id
            from lines as l, split
            where l.is_bought and l.order_date > split.holdout_start
                and l.customer_id in (select customer_id from buyers)
                and not exists (
                    select 1 from blocked as x
                    where x.customer_id = l.customer_id
                        and x.product_id = l.product_id)
        )
        select
            count(distinct o.customer_id) / (select count(distinct customer_id)
                from targets) as hit_rate
        from targets as t
        inner join offered as o using (customer_id, product_id)
        """
    ).iloc[0]["hit_rate"]


def test_no_customer_is_offered_what_they_returned_or_bought(
    ml_warehouse: Warehouse,
):
    offered = ml_warehouse.query(
        """
        with returned as (
            select i.customer_id, i.product_id
            from marts.fct_order_items as i
            inner join marts.fct_orders as o on i.order_id = o.order_id
            where i.order_status = 'returned'
                or (i.is_completed and o.net_revenue <= 0)
            union
            select r.customer_id, l.product_id
            from marts.fct_refunds as r
            inner join intermediate.int_order_lines_validated as l
                on r.refund_id = l.order_id and l.row_status = 'kept'
            where r.refund_source = 'credit_note'
        ),
        bought as (
            select distinct customer_id, product_id
            from marts.fct_order_items where is_completed
        )
        select
            count(*) filter (where r.customer_id is not null) as returned,
            count(*) filter (where b.customer_id is not null) as bought,
            count(distinct rec.product_id)
                filter (where b.customer_id is not null) as bought_products
        from marts.fct_customer_recommendations as rec
        left join returned as r using (customer_id, product_id)
        left join bought as b using (customer_id, product_id)
        """
    ).iloc[0]
    assert offered["returned"] == 0
    # only repeat-purchase products are offered again to their buyers
    repeat = ml_warehouse.query(
        """
        select count(*) as n from (
            select product_id from intermediate.int_customer_product_purchases
            where count_lines > 0 group by all
            having count(*) >= 20
                and avg(case when count_lines >= 2 then 1 else 0 end) >= 0.5
        )
        """
    ).iloc[0]["n"]
    assert offered["bought_products"] <= repeat


def test_too_little_data_is_a_not_fitted_row_an_empty_mart_and_one_warning(
    ml_warehouse: Warehouse, tmp_path
):
    import shutil

    db_path = tmp_path / "warehouse.duckdb"
    shutil.copy(ml_warehouse.path, db_path)
    result = run_dbt(
        [
            "build",
            "--select",
            "int_recommendation_evaluation",
            "fct_customer_recommendations",
            "fct_ml_model_metrics",
            "--vars",
            "{recommendation_min_buyers: 100000}",
        ],
        ml_warehouse.data_dir / "raw",
        db_path,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    warnings = [line for line in plain.splitlines() if "not fitted" in line]
    assert len(warnings) == 1
    assert "[WARNING]: WARNING recommendations not fitted: " in warnings[0]
    assert "at least 100000 needed" in warnings[0]
    thin = Warehouse(db_path, ml_warehouse.data_dir, result)
    assert (
        thin.query("select count(*) as n from marts.fct_customer_recommendations").iloc[
            0
        ]["n"]
        == 0
    )
    rows = recommendation_candidates(thin)
    assert rows[["candidate", "metric_name", "metric_value", "is_published"]].to_dict(
        "records"
    ) == [
        {
            "candidate": "none",
            "metric_name": "fitted",
            "metric_value": 0.0,
            "is_published": True,
        }
    ]
    assert rows["note"].iloc[0] in warnings[0]


def test_associations_without_a_rule_warn_once_with_the_reason(
    ml_warehouse: Warehouse, tmp_path
):
    """Associations are fitted in SQL: fct_ml_model_metrics' post-hook
    prints the one warning line (macros/warn_not_fitted.sql)."""
    import shutil

    db_path = tmp_path / "warehouse.duckdb"
    shutil.copy(ml_warehouse.path, db_path)
    result = run_dbt(
        [
            "build",
            "--select",
            "fct_product_associations",
            "fct_ml_model_metrics",
            "--vars",
            "{association_min_support: 1}",
        ],
        ml_warehouse.data_dir / "raw",
        db_path,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    warnings = [line for line in plain.splitlines() if "not fitted" in line]
    assert len(warnings) == 1, warnings
    assert "WARNING associations not fitted: no rule: " in warnings[0]
    thin = Warehouse(db_path, ml_warehouse.data_dir, result)
    note = thin.query(
        "select note from marts.fct_ml_model_metrics "
        "where model_name = 'associations' and metric_name = 'fitted' "
        "and metric_value = 0"
    )["note"]
    assert len(note) == 1 and note.iloc[0] in warnings[0]
    # the full demo build fits them, and prints no such line
    assert "associations not fitted" not in re.sub(
        r"\x1b\[[0-9;]*m", "", ml_warehouse.result.stdout
    )


def test_ml_tables_are_identical_across_two_builds(
    ml_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
):
    second = build(ml_warehouse.data_dir, tmp_path_factory.mktemp("ml_again"))
    for table in [
        "dim_customer_segments",
        "fct_customer_churn_scores",
        "fct_customer_purchase_propensity",
        "fct_customer_anomalies",
        "fct_customer_recommendations",
        "fct_customer_next_best_action",
    ]:
        sql = f"select * from marts.{table} order by all"
        pd.testing.assert_frame_equal(ml_warehouse.query(sql), second.query(sql))
    sql = (
        "select model_name, candidate, metric_name, metric_value "
        "from marts.fct_ml_model_metrics "
        "order by all"
    )
    pd.testing.assert_frame_equal(ml_warehouse.query(sql), second.query(sql))


def test_every_model_has_one_published_fitted_row(ml_warehouse: Warehouse):
    fitted = ml_warehouse.query(
        "select model_name, count(*) as n from marts.fct_ml_model_metrics "
        "where metric_name = 'fitted' and is_published group by 1"
    ).set_index("model_name")["n"]
    assert set(fitted.index) == {
        "clv_purchases",
        "clv_spend",
        "segmentation",
        "churn",
        "purchase_propensity",
        "recommendations",
        "anomalies",
        "associations",
    }
    assert (fitted == 1).all()


def test_association_counts_match_the_orders_and_the_rules(ml_warehouse: Warehouse):
    published = metrics(ml_warehouse, "associations")
    # counted in pandas from fct_order_items, dim_products and
    # fct_product_associations: baskets are the completed orders with a line
    # of a product of the catalogue, sized by its distinct products
    items = ml_warehouse.query(
        "select order_id, product_id from marts.fct_order_items where is_completed"
    )
    catalogue = ml_warehouse.query("select product_id from marts.dim_products")
    items = items[items["product_id"].isin(catalogue["product_id"])]
    sizes = items.groupby("order_id")["product_id"].nunique()
    rules = ml_warehouse.query(
        "select association_level from marts.fct_product_associations"
    )["association_level"].value_counts()
    assert published["baskets"] == len(sizes)
    assert published["multi_product_baskets"] == int((sizes >= 2).sum())
    assert published["product_rules"] == rules.get("product", 0)
    assert published["category_rules"] == rules.get("category", 0)
    assert published["fitted"] == (1.0 if len(rules) else 0.0)


def test_associations_without_a_rule_say_why(ml_warehouse: Warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(ml_warehouse.path, copy)
    result = run_dbt(
        [
            "run",
            "--select",
            "fct_product_associations",
            "fct_ml_model_metrics",
            "--vars",
            "{association_min_support: 1.01}",
        ],
        ml_warehouse.data_dir / "raw",
        copy,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    rebuilt = Warehouse(copy, ml_warehouse.data_dir, result)
    published = metrics(rebuilt, "associations")
    assert published["product_rules"] == published["category_rules"] == 0
    assert published["fitted"] == 0.0
    note = rebuilt.query(
        "select note from marts.fct_ml_model_metrics "
        "where model_name = 'associations' and metric_name = 'fitted'"
    )["note"].iloc[0]
    baskets = int(published["baskets"])
    multi = int(published["multi_product_baskets"])
    assert note.startswith(
        f"no rule: {multi} of {baskets} baskets (completed orders with a product"
    )
    assert "support 1.01" in note
