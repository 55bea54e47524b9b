"""The dashboard's pages: each draws its charts and tables with Streamlit
from the functions in :mod:`crm_analytics.dashboard.queries`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from crm_analytics.dashboard import queries
from crm_analytics.dashboard.data import Filters, file_version

# The page functions receive the serving file and the sidebar's filters.
Render = Callable[[Path, Filters], None]


@st.cache_data(ttl=600, show_spinner=False, max_entries=256)
def _cached(name: str, path: str, version: tuple, *args) -> pd.DataFrame:
    return getattr(queries, name)(Path(path), *args)


def load(name: str, path: Path, *args) -> pd.DataFrame:
    """``queries.<name>(path, *args)``, cached until the serving file is
    replaced by a publish."""
    return _cached(name, str(path), file_version(path), *args)


def chart(spec: alt.Chart) -> None:
    st.altair_chart(spec, width="stretch")


def _column_format(name: str) -> st.column_config.Column | None:
    if name.endswith(("_date", "_start", "_end")):
        return st.column_config.DateColumn(format="YYYY-MM-DD")
    if name.startswith(("p_", "pct_")) or name in {"support", "confidence"}:
        return st.column_config.NumberColumn(format="%.3f")
    if "revenue" in name or "clv" in name or name.startswith("value_"):
        return st.column_config.NumberColumn(format="%,.0f")
    return None


#: A text cell starting with one of these is read as a formula by
#: spreadsheets when the table is downloaded as CSV (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _escape_formula(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a
    formula prefixed with a single quote, as OWASP recommends; numbers and
    other text are unchanged."""
    escaped = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            escaped[name] = column.map(_escape_formula, na_action="ignore")
    return escaped


def table(frame: pd.DataFrame) -> None:
    """A data frame with probabilities to 3 places and money in whole units;
    text that a spreadsheet would run as a formula is escaped, as the
    table's CSV download holds what is shown."""
    config = {name: _column_format(name) for name in frame.columns}
    st.dataframe(
        escape_formulas(frame),
        hide_index=True,
        width="stretch",
        column_config={name: c for name, c in config.items() if c is not None},
    )


def _not_fitted(path: Path, model_name: str, label: str) -> bool:
    """Where a model's chart would be: says why it was not fitted (its
    ``fitted`` row in fct_ml_model_metrics) and returns True; else False."""
    status = load("model_status", path, model_name)
    if status["fitted"]:
        return False
    st.info(f"The {label} was not fitted: {status['fitted_note']}.")
    return True


def _subset_note(filters: Filters) -> None:
    if filters.is_customer_subset:
        st.caption("Showing the customers in the selected segments and countries.")


def overview(path: Path, filters: Filters) -> None:
    st.header("Overview")
    kpis = load("monthly_kpis", path, filters)
    _subset_note(filters)
    if kpis.empty:
        st.info("No months in the selected date range.")
        return
    kpis["sum_net_revenue"] = kpis["sum_net_revenue"].astype(float)
    kpis["avg_order_value"] = kpis["avg_order_value"].astype(float)
    # Tiles show the last complete month; the month of as_of_date is partial.
    as_of = load("as_of_date", path)
    complete = kpis[
        pd.to_datetime(kpis["kpi_month"]) + pd.offsets.MonthEnd(0)
        <= pd.Timestamp(as_of)
    ]
    if complete.empty:
        complete = kpis
    elif len(complete) < len(kpis):
        st.caption(
            f"Data runs to {as_of:%Y-%m-%d}: the tiles compare the last complete "
            "month with the month before; the charts include the partial month."
        )
    latest = complete.iloc[-1]
    previous = complete.iloc[-2] if len(complete) > 1 else None
    columns = st.columns(4)
    tiles = [
        ("Net revenue", "sum_net_revenue", "{:,.0f}"),
        ("Orders", "count_orders", "{:,.0f}"),
        ("Active customers", "count_active_customers", "{:,.0f}"),
        ("Average order value", "avg_order_value", "{:,.2f}"),
    ]
    for column, (label, field, text) in zip(columns, tiles, strict=True):
        value = latest[field]
        delta = None
        if previous is not None and pd.notna(value) and pd.notna(previous[field]):
            delta = text.format(value - previous[field])
        column.metric(
            f"{label}, {latest['kpi_month']:%b %Y}",
            text.format(value) if pd.notna(value) else "–",
            delta,
        )
    chart(
        alt.Chart(kpis, title="Net revenue by month")
        .mark_area(line=True, opacity=0.3)
        .encode(
            x=alt.X("yearmonth(kpi_month):T", title="month"),
            y=alt.Y("sum_net_revenue:Q", title="net revenue"),
            tooltip=["kpi_month:T", alt.Tooltip("sum_net_revenue:Q", format=",.0f")],
        )
    )
    customers = kpis.melt(
        id_vars="kpi_month",
        value_vars=["count_active_customers", "count_new_customers"],
        var_name="measure",
        value_name="customers",
    )
    customers["measure"] = customers["measure"].map(
        {"count_active_customers": "active", "count_new_customers": "new"}
    )
    left, right = st.columns(2)
    with left:
        chart(
            alt.Chart(customers, title="Active and new customers")
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(kpi_month):T", title="month"),
                y=alt.Y("customers:Q"),
                color="measure:N",
                tooltip=["kpi_month:T", "measure:N", "customers:Q"],
            )
        )
    with right:
        chart(
            alt.Chart(kpis, title="Average order value")
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(kpi_month):T", title="month"),
                y=alt.Y("avg_order_value:Q", title="AOV"),
                tooltip=[
                    "kpi_month:T",
                    alt.Tooltip("avg_order_value:Q", format=",.2f"),
                ],
            )
        )


def _share_chart(frame: pd.DataFrame, segment: str) -> alt.Chart:
    """Each segment's share of buyers beside its share of lifetime revenue."""
    total_buyers = frame["count_customers"].sum()
    total_revenue = frame["sum_lifetime_net_revenue"].sum()
    shares = pd.DataFrame(
        {
            segment: frame[segment],
            "buyers": frame["count_customers"] / total_buyers,
            "lifetime revenue": frame["sum_lifetime_net_revenue"] / total_revenue,
        }
    ).melt(id_vars=segment, var_name="share of", value_name="share")
    order = frame.sort_values("sum_lifetime_net_revenue", ascending=False)[segment]
    return (
        alt.Chart(shares, title="Share of buyers and of lifetime net revenue")
        .mark_bar()
        .encode(
            y=alt.Y(f"{segment}:N", sort=order.tolist(), title=None),
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title=None),
            yOffset="share of:N",
            color=alt.Color("share of:N", title=None),
            tooltip=[
                f"{segment}:N",
                "share of:N",
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
    )


def segments(path: Path, filters: Filters) -> None:
    st.header("Customer segments")
    st.caption("Buyers as of the last build; the date range does not apply.")
    _subset_note(filters)
    rfm = load("rfm_segments", path, filters)
    clusters = load("cluster_segments", path, filters)
    for frame in (rfm, clusters):
        frame["sum_lifetime_net_revenue"] = frame["sum_lifetime_net_revenue"].astype(
            float
        )
    st.subheader("RFM segments")
    chart(_share_chart(rfm, "rfm_segment"))
    st.subheader("Behavioural segments (k-means)")
    if _not_fitted(path, "segmentation", "segmentation model"):
        return
    st.caption(
        "Every buyer has a segment: one-time buyers are placed by the style of "
        "their one order. Revenue shares leave out the customers flagged as "
        "anomalies (see the Anomalies page)."
    )
    chart(_share_chart(clusters, "segment_name"))
    crosstab = load("segment_crosstab", path, filters)
    chart(
        alt.Chart(crosstab, title="Buyers by RFM segment and behavioural segment")
        .mark_rect()
        .encode(
            x=alt.X(
                "segment_name:N",
                title="behavioural segment",
                axis=alt.Axis(labelAngle=-20, labelLimit=220),
            ),
            y=alt.Y("rfm_segment:N", title="RFM segment"),
            color=alt.Color("count_customers:Q", title="buyers"),
            tooltip=["rfm_segment:N", "segment_name:N", "count_customers:Q"],
        )
    )
    st.subheader("Segment profiles")
    table(clusters)


def churn(path: Path, filters: Filters) -> None:
    st.header("Churn risk")
    st.caption(
        "Active customers scored at the last build: probability of no purchase "
        "in the churn horizon. The date range does not apply."
    )
    _subset_note(filters)
    if _not_fitted(path, "churn", "churn model"):
        return
    bands = load("churn_bands", path, filters)
    if bands.empty:
        st.info("No scored customers in this selection.")
        return
    columns = st.columns(len(bands))
    for column, row in zip(columns, bands.itertuples(), strict=True):
        column.metric(f"{row.churn_risk_band} risk", f"{row.count_customers:,}")
    left, right = st.columns(2)
    band_order = ["low", "medium", "high"]
    with left:
        chart(
            alt.Chart(bands, title="Predicted CLV at stake by risk band")
            .mark_bar()
            .encode(
                x=alt.X("churn_risk_band:N", sort=band_order, title="risk band"),
                y=alt.Y("sum_predicted_clv:Q", title="predicted CLV"),
                color=alt.Color(
                    "churn_risk_band:N",
                    sort=band_order,
                    scale=alt.Scale(range=["#4c9a2a", "#f2a541", "#c0392b"]),
                    legend=None,
                ),
                tooltip=["churn_risk_band:N", "count_customers:Q"],
            )
        )
    with right:
        distribution = load("churn_distribution", path, filters)
        chart(
            alt.Chart(distribution, title="Customers by churn probability")
            .mark_bar()
            .encode(
                x=alt.X("p_churn_bin:Q", bin="binned", title="p(churn)"),
                x2=alt.X2("p_churn_end:Q"),
                y=alt.Y("count_customers:Q", title="customers"),
            )
            .transform_calculate(p_churn_end="datum.p_churn_bin + 0.05")
        )
    st.subheader("Who to call first")
    st.caption(
        "Ordered by value at risk = p(churn) x predicted CLV. Customers flagged "
        "as anomalies are left out (see the Anomalies page)."
    )
    table(load("churn_risk_list", path, filters))


PURCHASE_MODEL_LABELS = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto_nbd": "Pareto/NBD",
}


def clv(path: Path, filters: Filters) -> None:
    st.header("Customer lifetime value")
    status = load("clv_model_status", path)
    if not status["fitted"]:
        st.info(f"The CLV models were not fitted: {status['fitted_note']}.")
        return
    label = PURCHASE_MODEL_LABELS.get(status["candidate"], status["candidate"])
    st.caption(
        f"Predicted CLV ({label}, the purchase model that predicted the "
        "holdout best, + Gamma-Gamma) over the model's horizon, as of the "
        "last build. The date range does not apply."
    )
    degenerate = status["p_alive_degenerate"]
    if degenerate:
        st.warning(
            f"{status['p_alive_note']}. Below: recency risk, days since the "
            "last purchase over the customer's usual gap (low below 1, high "
            "from 3)."
        )
    _subset_note(filters)
    distribution = load("clv_distribution", path, filters)
    by_segment = load("clv_by_segment", path, filters)
    by_segment["sum_lifetime_net_revenue"] = by_segment[
        "sum_lifetime_net_revenue"
    ].astype(float)
    left, right = st.columns(2)
    with left:
        chart(
            alt.Chart(distribution, title="Buyers by predicted CLV (log scale)")
            .mark_bar()
            .encode(
                x=alt.X("bin_start:O", title="predicted CLV from"),
                y=alt.Y("count_customers:Q", title="buyers"),
                tooltip=[
                    "bin_start:O",
                    "count_customers:Q",
                    alt.Tooltip("sum_predicted_clv:Q", format=",.0f"),
                ],
            )
        )
    with right:
        value = by_segment.melt(
            id_vars="rfm_segment",
            value_vars=["sum_predicted_clv", "sum_lifetime_net_revenue"],
            var_name="measure",
            value_name="amount",
        )
        value["measure"] = value["measure"].map(
            {
                "sum_predicted_clv": "predicted",
                "sum_lifetime_net_revenue": "historical",
            }
        )
        chart(
            alt.Chart(value, title="Predicted and historical value by RFM segment")
            .mark_bar()
            .encode(
                y=alt.Y("rfm_segment:N", title=None),
                x=alt.X("amount:Q", title="value"),
                yOffset="measure:N",
                color="measure:N",
                tooltip=[
                    "rfm_segment:N",
                    "measure:N",
                    alt.Tooltip("amount:Q", format=",.0f"),
                ],
            )
        )
    if degenerate:
        risk = load("clv_recency_risk", path, filters)
        chart(
            alt.Chart(risk, title="Buyers by recency risk")
            .mark_bar()
            .encode(
                x=alt.X("recency_risk_band:N", title="recency risk", sort=None),
                y=alt.Y("count_customers:Q", title="buyers"),
                tooltip=[
                    "recency_risk_band:N",
                    "count_customers:Q",
                    alt.Tooltip("sum_predicted_clv:Q", format=",.0f"),
                ],
            )
        )
    st.subheader("Top customers by predicted CLV")
    st.caption(
        "Customers flagged as anomalies (bulk resellers, burst buyers, return "
        "abusers) are left out: see the Anomalies page."
    )
    top = load("top_clv_customers", path, filters)
    table(top.drop(columns=["p_alive"]) if degenerate else top)


def satisfaction(path: Path, filters: Filters) -> None:
    st.header("Satisfaction")
    _subset_note(filters)
    nps = load("nps_monthly", path, filters)
    tickets = load("tickets_monthly", path, filters)
    left, right = st.columns(2)
    with left:
        chart(
            alt.Chart(nps, title="NPS by month")
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(response_month):T", title="month"),
                y=alt.Y("nps:Q", title="NPS", scale=alt.Scale(domain=[-100, 100])),
                tooltip=["response_month:T", "nps:Q", "count_responses:Q"],
            )
        )
    with right:
        chart(
            alt.Chart(tickets, title="Support tickets opened by category")
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(opened_month):T", title="month"),
                y=alt.Y("sum(count_tickets):Q", title="tickets"),
                color="category:N",
                tooltip=["opened_month:T", "category:N", "count_tickets:Q"],
            )
        )
    if not tickets.empty:
        monthly = (
            tickets.assign(
                weighted=tickets["pct_resolved_within_target"]
                * tickets["count_tickets"]
            )
            .groupby("opened_month", as_index=False)
            .agg(weighted=("weighted", "sum"), count_tickets=("count_tickets", "sum"))
        )
        monthly["pct_resolved_within_target"] = (
            monthly["weighted"] / monthly["count_tickets"]
        )
        chart(
            alt.Chart(monthly, title="Tickets resolved within target")
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(opened_month):T", title="month"),
                y=alt.Y(
                    "pct_resolved_within_target:Q",
                    title="share",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
            )
        )


def cohorts(path: Path, filters: Filters) -> None:
    st.header("Cohort retention")
    st.caption(
        "Share of each first-purchase cohort buying again n months later. "
        "Cohorts are all customers; segment and country filters do not apply."
    )
    triangle = load("cohort_retention", path, filters)
    if triangle.empty:
        st.info("No cohorts start in the selected date range.")
        return
    later = triangle.loc[triangle["months_since_first_order"] > 0, "pct_retained"]
    later_max = float(later.max()) if len(later) else 1.0
    chart(
        alt.Chart(triangle, title="Retention by cohort")
        .mark_rect()
        .encode(
            x=alt.X("months_since_first_order:O", title="months since first order"),
            y=alt.Y("yearmonth(cohort_month):O", title="cohort"),
            # Month 0 is 100% by definition: the scale spans the later months.
            color=alt.Color(
                "pct_retained:Q",
                title="retained",
                scale=alt.Scale(scheme="blues", domain=[0, later_max], clamp=True),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                "cohort_month:T",
                "months_since_first_order:O",
                "count_cohort_customers:Q",
                "count_active_customers:Q",
                alt.Tooltip("pct_retained:Q", format=".1%"),
            ],
        )
        .properties(height=alt.Step(16))
    )


def products(path: Path, filters: Filters) -> None:
    st.header("Products: associations and recommendations")
    if not _not_fitted(path, "associations", "association model"):
        _association_rules(path)
    st.subheader("Recommendations")
    _subset_note(filters)
    if not _not_fitted(path, "recommendations", "recommendation model"):
        _recommendations(path, filters)


def _association_rules(path: Path) -> None:
    level = st.radio("Association level", ["category", "product"], horizontal=True)
    rules = load("product_associations", path, level)
    left, right = st.columns(2)
    with left:
        chart(
            alt.Chart(rules, title=f"Strongest {level} pairs")
            .mark_circle()
            .encode(
                x=alt.X("support:Q"),
                y=alt.Y("confidence:Q"),
                size=alt.Size("lift:Q"),
                color=alt.Color("lift:Q", scale=alt.Scale(scheme="oranges")),
                tooltip=[
                    "antecedents:N",
                    "consequents:N",
                    "support:Q",
                    "confidence:Q",
                    "lift:Q",
                ],
            )
        )
    with right:
        table(rules)


def _recommendations(path: Path, filters: Filters) -> None:
    recommended = load("recommended_products", path, filters)
    chart(
        alt.Chart(recommended, title="Most recommended products (top 3 per customer)")
        .mark_bar()
        .encode(
            y=alt.Y(
                "product_name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)
            ),
            x=alt.X("count_customers:Q", title="customers"),
            color="category:N",
            tooltip=[
                "product_id:N",
                "product_name:N",
                "category:N",
                "count_customers:Q",
            ],
        )
    )
    customer_id = st.text_input("A customer's recommendations (customer_id)")
    if customer_id:
        picks = load("customer_recommendations", path, customer_id.strip())
        if picks.empty:
            st.info(f"No recommendations for customer {customer_id!r}.")
        else:
            table(picks)


def anomalies(path: Path, filters: Filters) -> None:
    st.header("Anomalous customers")
    st.caption(
        "Customers whose behaviour is far outside the population's (bulk units "
        "per line, order bursts, very large orders, improbable returns). They "
        "are left out of who to call first, the top CLV list and the "
        "segments' revenue shares, and their next-best action is to review "
        "the account. The date range does not apply."
    )
    _subset_note(filters)
    if _not_fitted(path, "anomalies", "anomaly model"):
        return
    revenue = load("anomaly_revenue", path, filters)
    flagged = load("anomalous_customers", path, filters)
    if revenue.empty:
        st.info("No customers in this selection.")
        return
    revenue["sum_lifetime_net_revenue"] = revenue["sum_lifetime_net_revenue"].astype(
        float
    )
    share = revenue.loc[revenue["anomaly_kind"] != "not flagged", "pct_net_revenue"]
    left, right = st.columns(2)
    left.metric("Flagged customers", f"{len(flagged):,}")
    right.metric("Their share of lifetime net revenue", f"{share.sum():.1%}")
    chart(
        alt.Chart(revenue, title="Lifetime net revenue by anomaly kind")
        .mark_bar()
        .encode(
            y=alt.Y("anomaly_kind:N", sort="-x", title=None),
            x=alt.X("pct_net_revenue:Q", axis=alt.Axis(format="%"), title="share"),
            tooltip=[
                "anomaly_kind:N",
                "count_customers:Q",
                alt.Tooltip("sum_lifetime_net_revenue:Q", format=",.0f"),
                alt.Tooltip("pct_net_revenue:Q", format=".1%"),
            ],
        )
    )
    st.subheader("Flagged customers and their evidence")
    if flagged.empty:
        st.caption("None: no customer is flagged.")
    else:
        table(flagged)


def data_quality(path: Path, filters: Filters) -> None:
    st.header("Data quality and models")
    st.caption("From the last published build; filters do not apply.")
    counts = load("quarantine_counts", path)
    chart(
        alt.Chart(counts, title="Quarantined rows by source table and reason")
        .mark_bar()
        .encode(
            y=alt.Y("source_table:N", sort="-x", title=None),
            x=alt.X("sum(count_rows):Q", title="rows"),
            color=alt.Color("dq_reason:N", title="reason"),
            tooltip=["source_table:N", "dq_reason:N", "count_rows:Q"],
        )
    )
    st.subheader("Reconciliation: rows in = kept + merged + quarantined")
    table(load("reconciliation", path))
    st.subheader("Values no reference data maps (null downstream)")
    unmapped = load("unmapped_values", path)
    if unmapped.empty:
        st.caption("None: every value maps.")
    else:
        table(unmapped)
    metrics = load("model_metrics", path)
    # every candidate of a champion-challenger model; the published one
    # has the lowest out-of-time log loss (docs/ml_models.md)
    auc = metrics[metrics["metric_name"] == "roc_auc"].copy()
    auc["published"] = auc["is_published"].map({True: "published", False: "challenger"})
    chart(
        alt.Chart(auc, title="Out-of-time ROC AUC of each candidate")
        .mark_bar(clip=True)
        .encode(
            x=alt.X("model_name:N", title=None),
            xOffset="candidate:N",
            y=alt.Y(
                "metric_value:Q",
                title="ROC AUC",
                scale=alt.Scale(domain=[0.5, 1], clamp=True),
            ),
            color=alt.Color("candidate:N", title=None),
            opacity=alt.Opacity(
                "published:N",
                scale=alt.Scale(domain=["published", "challenger"], range=[1.0, 0.4]),
                title=None,
            ),
            tooltip=[
                "model_name:N",
                "candidate:N",
                "published:N",
                alt.Tooltip("metric_value:Q", format=".3f"),
            ],
        )
    )
    st.subheader("Model metrics")
    table(metrics)


@dataclass(frozen=True)
class Page:
    title: str
    url_path: str
    render: Render


PAGES = (
    Page("Overview", "overview", overview),
    Page("Segments", "segments", segments),
    Page("Churn risk", "churn", churn),
    Page("Lifetime value", "clv", clv),
    Page("Satisfaction", "satisfaction", satisfaction),
    Page("Cohorts", "cohorts", cohorts),
    Page("Products", "products", products),
    Page("Anomalies", "anomalies", anomalies),
    Page("Data quality", "data_quality", data_quality),
)
