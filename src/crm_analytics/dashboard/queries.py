"""The dashboard's questions, as SQL on the serving file's marts.

One function per chart or table, each returning a DataFrame, so they can be
tested without a browser. Filters narrow customers through
``marts.dim_customers`` (segment, country) and months through the date range.
Where a mart is pre-aggregated for all customers (``fct_kpi_monthly``,
``fct_nps_monthly``) and the user picks a subset, the rows of
``fct_kpi_monthly_by_segment`` for that subset are summed: the measures are
defined once, in the warehouse (``fct_customer_months``), and only their
ratios (average order value, NPS) are taken here.

Customers flagged by ``fct_customer_anomalies`` (``dim_customers.is_anomaly``:
bulk resellers, burst buyers, return abusers) are left out of the marketing
defaults: "who to call first", the top customers by predicted CLV and the
segments' revenue. Each of those rankings carries the ``is_anomaly`` column
and takes ``include_anomalies=True`` to show them; the Anomalies page lists
them with their evidence.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from crm_analytics.dashboard.data import Filters, query

#: What every page reads, by page url path: the dbt exposures declare the
#: same (a test compares them), and each page's SQL names only these tables.
PAGE_TABLES: dict[str, tuple[str, ...]] = {
    "overview": ("fct_kpi_monthly", "fct_kpi_monthly_by_segment", "dim_customers"),
    "segments": ("dim_customers", "fct_segment_profiles", "fct_ml_model_metrics"),
    "churn": ("dim_customers", "fct_customer_churn_scores", "fct_ml_model_metrics"),
    "clv": ("dim_customers", "fct_customer_clv_predictions", "fct_ml_model_metrics"),
    "satisfaction": (
        "dim_customers",
        "fct_nps_monthly",
        "fct_kpi_monthly_by_segment",
        "fct_support_tickets",
    ),
    "cohorts": ("fct_cohort_retention",),
    "products": (
        "dim_customers",
        "dim_products",
        "fct_product_associations",
        "fct_customer_recommendations",
        "fct_ml_model_metrics",
    ),
    "anomalies": ("dim_customers", "fct_customer_anomalies", "fct_ml_model_metrics"),
    "data_quality": (
        "dq_row_reconciliation",
        "dq_quarantined_rows",
        "dq_unmapped_values",
        "fct_ml_model_metrics",
    ),
}


def date_bounds(path: Path) -> tuple[date, date]:
    """First and last KPI month: the date filter's range."""
    frame = query(
        path,
        "select min(kpi_month) as lo, max(kpi_month) as hi from marts.fct_kpi_monthly",
    )
    return frame.loc[0, "lo"].date(), frame.loc[0, "hi"].date()


def as_of_date(path: Path) -> date:
    """The date the published warehouse describes (data up to and including)."""
    frame = query(path, "select max(as_of_date) as as_of from marts.dim_customers")
    return frame.loc[0, "as_of"].date()


def filter_options(path: Path) -> tuple[list[str], list[str]]:
    """The segment and country choices, as the customer filter labels them."""
    segments = query(
        path,
        "select distinct coalesce(segment_name, 'non-buyer') as value "
        "from marts.dim_customers order by 1",
    )
    countries = query(
        path,
        "select distinct coalesce(country_code, 'unknown') as value "
        "from marts.dim_customers order by 1",
    )
    return segments["value"].tolist(), countries["value"].tolist()


def audience_filter(filters: Filters) -> tuple[str, list]:
    """A SQL predicate on ``marts.fct_kpi_monthly_by_segment`` for the
    segment and country choices (its labels are the filter's own:
    'non-buyer', 'unknown'), and its parameters."""
    clauses, parameters = ["true"], []
    if filters.segments:
        clauses.append("segment_name in (select unnest(?))")
        parameters.append(list(filters.segments))
    if filters.countries:
        clauses.append("country_code in (select unnest(?))")
        parameters.append(list(filters.countries))
    return " and ".join(clauses), parameters


def monthly_kpis(path: Path, filters: Filters) -> pd.DataFrame:
    """One row per month in the range: revenue, orders, active and new
    customers, AOV. All customers: ``fct_kpi_monthly``; a subset: the rows
    of ``fct_kpi_monthly_by_segment`` for its segments and countries,
    summed (the measures are defined once, in the warehouse; only the
    ratio is taken here)."""
    if not filters.is_customer_subset:
        return query(
            path,
            """
            select
                kpi_month,
                sum_net_revenue,
                count_orders,
                count_completed_orders,
                count_active_customers,
                count_new_customers,
                avg_order_value
            from marts.fct_kpi_monthly
            where kpi_month between date_trunc('month', ?::date) and ?
            order by kpi_month
            """,
            [filters.start, filters.end],
        )
    predicate, parameters = audience_filter(filters)
    return query(
        path,
        f"""
        with

        months as (
            select kpi_month from marts.fct_kpi_monthly
            where kpi_month between date_trunc('month', ?::date) and ?
        ),

        audience as (
            select
                kpi_month,
                sum(sum_net_revenue) as sum_net_revenue,
                sum(count_orders) as count_orders,
                sum(count_completed_orders) as count_completed_orders,
                sum(count_active_customers) as count_active_customers,
                sum(count_new_customers) as count_new_customers
            from marts.fct_kpi_monthly_by_segment
            where {predicate}
            group by 1
        )

        select
            months.kpi_month,
            cast(coalesce(audience.sum_net_revenue, 0) as decimal(38, 2))
                as sum_net_revenue,
            cast(coalesce(audience.count_orders, 0) as bigint) as count_orders,
            cast(coalesce(audience.count_completed_orders, 0) as bigint)
                as count_completed_orders,
            cast(coalesce(audience.count_active_customers, 0) as bigint)
                as count_active_customers,
            cast(coalesce(audience.count_new_customers, 0) as bigint)
                as count_new_customers,
            cast(
                audience.sum_net_revenue
                / nullif(audience.count_completed_orders, 0)
                as decimal(38, 2)
            ) as avg_order_value
        from months
        left join audience on months.kpi_month = audience.kpi_month
        order by months.kpi_month
        """,
        [filters.start, filters.end, *parameters],
    )


def rfm_segments(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers per RFM segment with their lifetime and predicted value
    (revenue and CLV without the customers flagged as anomalies)."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            customers.rfm_segment,
            count(*) as count_customers,
            count(*) filter (where customers.is_anomaly)
                as count_anomalous_customers,
            coalesce(
                sum(customers.lifetime_net_revenue)
                    filter (where not customers.is_anomaly),
                0
            ) as sum_lifetime_net_revenue,
            avg(customers.predicted_clv) filter (where not customers.is_anomaly)
                as avg_predicted_clv,
            avg(customers.p_churn) as avg_p_churn
        from marts.dim_customers as customers
        where customers.rfm_segment is not null and {predicate}
        group by 1
        order by sum_lifetime_net_revenue desc
        """,
        parameters,
    )


def cluster_segments(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers per behavioural segment (k-means) with value and the profile
    the segment was named from; revenue and CLV leave out the customers
    flagged as anomalies (counted in ``count_anomalous_customers``)."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        with

        selected as (
            select
                customers.segment_name,
                count(*) as count_customers,
                count(*) filter (where customers.is_anomaly)
                    as count_anomalous_customers,
                coalesce(
                    sum(customers.lifetime_net_revenue)
                        filter (where not customers.is_anomaly),
                    0
                ) as sum_lifetime_net_revenue,
                avg(customers.lifetime_net_revenue)
                    filter (where not customers.is_anomaly)
                    as avg_lifetime_net_revenue,
                avg(customers.predicted_clv)
                    filter (where not customers.is_anomaly) as avg_predicted_clv
            from marts.dim_customers as customers
            where customers.segment_name is not null and {predicate}
            group by 1
        )

        select
            selected.*,
            profiles.avg_purchase_days_per_year,
            profiles.avg_lines_per_order,
            profiles.avg_units_per_line,
            profiles.avg_pct_orders_discounted
        from selected
        left join marts.fct_segment_profiles as profiles
            on selected.segment_name = profiles.segment_name
        order by selected.sum_lifetime_net_revenue desc
        """,
        parameters,
    )


def segment_crosstab(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers by RFM segment x behavioural segment."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            customers.rfm_segment,
            customers.segment_name,
            count(*) as count_customers
        from marts.dim_customers as customers
        where customers.rfm_segment is not null
            and customers.segment_name is not null
            and {predicate}
        group by 1, 2
        """,
        parameters,
    )


def churn_bands(path: Path, filters: Filters) -> pd.DataFrame:
    """Active customers per churn risk band, with the value at stake."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            scores.churn_risk_band,
            count(*) as count_customers,
            avg(scores.p_churn) as avg_p_churn,
            sum(customers.predicted_clv) as sum_predicted_clv
        from marts.fct_customer_churn_scores as scores
        inner join marts.dim_customers as customers
            on scores.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by avg_p_churn
        """,
        parameters,
    )


def churn_distribution(path: Path, filters: Filters) -> pd.DataFrame:
    """Customers per 5-point bin of churn probability."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            least(floor(scores.p_churn * 20), 19) / 20 as p_churn_bin,
            count(*) as count_customers
        from marts.fct_customer_churn_scores as scores
        inner join marts.dim_customers as customers
            on scores.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by 1
        """,
        parameters,
    )


def churn_risk_list(
    path: Path, filters: Filters, limit: int = 50, include_anomalies: bool = False
) -> pd.DataFrame:
    """The customers to call first: value at risk = p_churn x predicted CLV.
    Customers flagged as anomalies are left out unless ``include_anomalies``."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            scores.customer_id,
            customers.segment_name,
            customers.country_code,
            scores.churn_risk_band,
            scores.p_churn,
            customers.predicted_clv,
            scores.p_churn * coalesce(customers.predicted_clv, 0)
                as value_at_risk,
            customers.days_since_last_purchase,
            scores.churn_reasons,
            customers.next_best_action,
            customers.is_anomaly
        from marts.fct_customer_churn_scores as scores
        inner join marts.dim_customers as customers
            on scores.customer_id = customers.customer_id
        where {predicate} and (? or not customers.is_anomaly)
        order by value_at_risk desc, scores.customer_id
        limit ?
        """,
        [*parameters, include_anomalies, limit],
    )


def clv_distribution(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers per log-spaced bin of predicted CLV (5 bins per power of ten;
    bin_start is the lower edge, CLV below 1 counts as 1)."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            round(pow(10, floor(log10(greatest(clv.predicted_clv, 1)) * 5) / 5), 2)
                as bin_start,
            count(*) as count_customers,
            sum(clv.predicted_clv) as sum_predicted_clv
        from marts.fct_customer_clv_predictions as clv
        inner join marts.dim_customers as customers
            on clv.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by 1
        """,
        parameters,
    )


def clv_by_segment(path: Path, filters: Filters) -> pd.DataFrame:
    """Predicted against historical value per RFM segment."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            customers.rfm_segment,
            sum(clv.predicted_clv) as sum_predicted_clv,
            sum(customers.lifetime_net_revenue) as sum_lifetime_net_revenue,
            avg(clv.p_alive) as avg_p_alive,
            avg(clv.recency_risk_ratio) as avg_recency_risk_ratio
        from marts.fct_customer_clv_predictions as clv
        inner join marts.dim_customers as customers
            on clv.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by sum_predicted_clv desc
        """,
        parameters,
    )


def model_status(path: Path, model_name: str) -> dict[str, object]:
    """Whether ``model_name``'s published candidate was fitted, and the
    reason when it was not (its ``fitted`` row in fct_ml_model_metrics)."""
    frame = query(
        path,
        """
        select candidate, metric_value, note
        from marts.fct_ml_model_metrics
        where model_name = ? and is_published and metric_name = 'fitted'
        """,
        [model_name],
    )
    if frame.empty:
        return {
            "candidate": None,
            "fitted": False,
            "fitted_note": f"no {model_name} metrics in the warehouse",
        }
    row = frame.iloc[0]
    return {
        "candidate": row["candidate"],
        "fitted": bool(row["metric_value"] == 1),
        "fitted_note": row["note"],
    }


def clv_model_status(path: Path) -> dict[str, object]:
    """:func:`model_status` of the CLV purchase model, and whether its
    P(alive) is degenerate (and the note saying so)."""
    status = model_status(path, "clv_purchases")
    if status["candidate"] is None:
        status["fitted_note"] = "no CLV metrics"
    degenerate = query(
        path,
        """
        select metric_value, note
        from marts.fct_ml_model_metrics
        where
            model_name = 'clv_purchases'
            and is_published
            and metric_name = 'p_alive_degenerate'
        """,
    )
    flag = not degenerate.empty and degenerate["metric_value"].iloc[0] == 1
    return {
        **status,
        "p_alive_degenerate": bool(flag),
        "p_alive_note": None if degenerate.empty else degenerate["note"].iloc[0],
    }


def clv_recency_risk(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers and predicted CLV per recency risk band (low, medium, high)."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            clv.recency_risk_band,
            count(*) as count_customers,
            sum(clv.predicted_clv) as sum_predicted_clv
        from marts.fct_customer_clv_predictions as clv
        inner join marts.dim_customers as customers
            on clv.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by
            case clv.recency_risk_band
                when 'low' then 1 when 'medium' then 2 else 3
            end
        """,
        parameters,
    )


def top_clv_customers(
    path: Path, filters: Filters, limit: int = 25, include_anomalies: bool = False
) -> pd.DataFrame:
    """The most valuable customers by predicted CLV. Customers flagged as
    anomalies are left out unless ``include_anomalies``."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            clv.customer_id,
            customers.segment_name,
            customers.rfm_segment,
            customers.country_code,
            clv.predicted_clv,
            clv.p_alive,
            clv.recency_risk_ratio,
            clv.recency_risk_band,
            clv.expected_purchases_365d,
            customers.lifetime_net_revenue,
            customers.is_anomaly,
            customers.last_purchase_date
        from marts.fct_customer_clv_predictions as clv
        inner join marts.dim_customers as customers
            on clv.customer_id = customers.customer_id
        where {predicate} and (? or not customers.is_anomaly)
        order by clv.predicted_clv desc, clv.customer_id
        limit ?
        """,
        [*parameters, include_anomalies, limit],
    )


ANOMALY_KIND_SQL = """
    case
        when anomalies.anomaly_reasons like 'avg_units_per_line%' then 'bulk units'
        when anomalies.anomaly_reasons like 'max_orders_in_3_days%'
            then 'order burst'
        when anomalies.anomaly_reasons like 'returned%' then 'returns'
        when anomalies.anomaly_reasons like 'avg_lines_per_order%'
            then 'large baskets'
        else 'large orders'
    end"""


def anomalous_customers(path: Path, filters: Filters) -> pd.DataFrame:
    """The customers flagged as anomalies, strongest evidence first: their
    main behaviour, every reason with its strength, and what they are worth
    (left out of the marketing rankings, so they are shown here)."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            anomalies.customer_id,
            {ANOMALY_KIND_SQL} as anomaly_kind,
            anomalies.anomaly_reasons,
            anomalies.anomaly_score,
            customers.segment_name,
            customers.country_code,
            customers.next_best_action,
            customers.count_completed_orders,
            customers.count_returned_orders,
            customers.lifetime_net_revenue,
            customers.lifetime_net_revenue
            / nullif(sum(customers.lifetime_net_revenue) over (), 0)
                as pct_net_revenue_of_flagged,
            customers.predicted_clv,
            customers.last_purchase_date
        from marts.fct_customer_anomalies as anomalies
        inner join marts.dim_customers as customers
            on anomalies.customer_id = customers.customer_id
        where anomalies.is_anomaly and {predicate}
        order by anomalies.anomaly_score desc, anomalies.customer_id
        """,
        parameters,
    )


def anomaly_revenue(path: Path, filters: Filters) -> pd.DataFrame:
    """Buyers and lifetime net revenue, flagged against not flagged, by the
    flagged customers' main behaviour."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            case
                when anomalies.is_anomaly then {ANOMALY_KIND_SQL}
                else 'not flagged'
            end as anomaly_kind,
            count(*) as count_customers,
            sum(customers.lifetime_net_revenue) as sum_lifetime_net_revenue,
            sum(customers.lifetime_net_revenue)
            / sum(sum(customers.lifetime_net_revenue)) over () as pct_net_revenue
        from marts.fct_customer_anomalies as anomalies
        inner join marts.dim_customers as customers
            on anomalies.customer_id = customers.customer_id
        where {predicate}
        group by 1
        order by sum_lifetime_net_revenue desc
        """,
        parameters,
    )


def nps_monthly(path: Path, filters: Filters) -> pd.DataFrame:
    """NPS per month in the range. All customers: ``fct_nps_monthly``; a
    subset: the response counts of ``fct_kpi_monthly_by_segment`` for its
    segments and countries, summed, and the score of the sums."""
    if not filters.is_customer_subset:
        return query(
            path,
            """
            select response_month, count_responses, nps
            from marts.fct_nps_monthly
            where response_month between date_trunc('month', ?::date) and ?
            order by response_month
            """,
            [filters.start, filters.end],
        )
    predicate, parameters = audience_filter(filters)
    return query(
        path,
        f"""
        with

        audience as (
            select
                kpi_month as response_month,
                sum(count_nps_responses) as count_responses,
                sum(count_promoters) as count_promoters,
                sum(count_detractors) as count_detractors
            from marts.fct_kpi_monthly_by_segment
            where {predicate}
                and kpi_month between date_trunc('month', ?::date) and ?
            group by 1
            having sum(count_nps_responses) > 0
        )

        select
            response_month,
            cast(count_responses as bigint) as count_responses,
            round(
                100.0 * (count_promoters - count_detractors) / count_responses, 2
            ) as nps
        from audience
        order by response_month
        """,
        [*parameters, filters.start, filters.end],
    )


def tickets_monthly(path: Path, filters: Filters) -> pd.DataFrame:
    """Support tickets opened per month and category, with CSAT and the
    share resolved within target."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            cast(date_trunc('month', tickets.opened_date) as date) as opened_month,
            tickets.category,
            count(*) as count_tickets,
            avg(tickets.csat_score) as avg_csat_score,
            avg(case when tickets.is_resolved_within_target then 1.0 else 0.0 end)
                as pct_resolved_within_target
        from marts.fct_support_tickets as tickets
        inner join marts.dim_customers as customers
            on tickets.customer_id = customers.customer_id
        where {predicate}
            and date_trunc('month', tickets.opened_date)
                between date_trunc('month', ?::date) and ?
        group by 1, 2
        order by 1, 2
        """,
        [*parameters, filters.start, filters.end],
    )


def cohort_retention(path: Path, filters: Filters) -> pd.DataFrame:
    """The retention triangle for cohorts whose first month is in the range."""
    return query(
        path,
        """
        select
            cohort_month,
            months_since_first_order,
            count_cohort_customers,
            count_active_customers,
            pct_retained
        from marts.fct_cohort_retention
        where cohort_month between date_trunc('month', ?::date) and ?
        order by cohort_month, months_since_first_order
        """,
        [filters.start, filters.end],
    )


def product_associations(
    path: Path, level: str, min_support: float = 0.0, limit: int = 25
) -> pd.DataFrame:
    """The strongest association rules at ``level`` ('product' or
    'category'), by lift."""
    return query(
        path,
        """
        select
            antecedents,
            consequents,
            count_pair_baskets,
            support,
            confidence,
            lift
        from marts.fct_product_associations
        where association_level = ? and support >= ?
        order by lift desc, antecedents, consequents
        limit ?
        """,
        [level, min_support, limit],
    )


def recommended_products(path: Path, filters: Filters, limit: int = 15) -> pd.DataFrame:
    """Products most often recommended first-to-third to the selected
    customers."""
    predicate, parameters = filters.customer_filter()
    return query(
        path,
        f"""
        select
            recommendations.product_id,
            products.product_name,
            products.category,
            count(*) as count_customers
        from marts.fct_customer_recommendations as recommendations
        inner join marts.dim_customers as customers
            on recommendations.customer_id = customers.customer_id
        left join marts.dim_products as products
            on recommendations.product_id = products.product_id
        where recommendations.recommendation_rank <= 3 and {predicate}
        group by 1, 2, 3
        order by count_customers desc, recommendations.product_id
        limit ?
        """,
        [*parameters, limit],
    )


def customer_recommendations(path: Path, customer_id: str) -> pd.DataFrame:
    """One customer's recommendations, with the product that explains each."""
    return query(
        path,
        """
        select
            recommendations.recommendation_rank,
            recommendations.product_id,
            products.product_name,
            products.category,
            recommendations.score,
            recommendations.because_product_id
        from marts.fct_customer_recommendations as recommendations
        left join marts.dim_products as products
            on recommendations.product_id = products.product_id
        where recommendations.customer_id = ?
        order by recommendations.recommendation_rank
        """,
        [customer_id],
    )


def reconciliation(path: Path) -> pd.DataFrame:
    """Rows in = kept + merged + quarantined, per raw table."""
    return query(
        path, "select * from marts.dq_row_reconciliation order by source_table"
    )


def quarantine_counts(path: Path) -> pd.DataFrame:
    """Quarantined rows per raw table and reason."""
    return query(
        path,
        """
        select source_table, dq_reason, count(*) as count_rows
        from marts.dq_quarantined_rows
        group by 1, 2
        order by count_rows desc, source_table, dq_reason
        """,
    )


def unmapped_values(path: Path) -> pd.DataFrame:
    """Values no reference data maps, most frequent first."""
    return query(
        path,
        """
        select source_table, column_name, raw_value, count_rows,
            example_record_key
        from marts.dq_unmapped_values
        order by count_rows desc, source_table, column_name, raw_value
        """,
    )


def model_metrics(path: Path) -> pd.DataFrame:
    """Every model's evaluation metrics from the last build."""
    return query(
        path,
        """
        select model_name, candidate, metric_name, metric_value, is_published,
            note, data_window_start, data_window_end, evaluated_at
        from marts.fct_ml_model_metrics
        order by model_name, candidate, metric_name
        """,
    )
