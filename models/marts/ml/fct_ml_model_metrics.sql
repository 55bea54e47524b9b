{#- One row per model x metric of the fits in use (kept until the refit
    schedule refits them; fitted_as_of says when each was made): fitted
    parameters, fit statistics and evaluation metrics of every ML model,
    for BI. -#}
{{ config(post_hook="{{ warn_not_fitted(['associations', 'anomalies']) }}") }}

with

clv_parameters as (

    select * from {{ ref('int_clv_parameters') }}

),

segment_model as (

    select * from {{ ref('int_segment_model') }}
    where parameter_name = 'metric'

),

current_features as (

    select * from {{ ref('int_customer_features_current') }}

),

next_best_actions as (

    select * from {{ ref('fct_customer_next_best_action') }}

),

churn_evaluation as (

    select * from {{ ref('int_churn_evaluation') }}

),

purchase_evaluation as (

    select * from {{ ref('int_purchase_propensity_evaluation') }}

),

recommendation_evaluation as (

    select * from {{ ref('int_recommendation_evaluation') }}

),

anomalies as (

    select * from {{ ref('fct_customer_anomalies') }}

),

anomaly_summary as (

    -- pct_net_revenue_flagged: how much of the revenue the flagged
    -- customers hold (they are left out of the marketing defaults);
    -- flagged_with_marketing_action must be 0 (review_account only)
    select
        cast(count(*) as double) as customers,
        cast(count(*) filter (where anomalies.is_anomaly) as double)
            as flagged_customers,
        avg(case when anomalies.is_anomaly then 1.0 else 0.0 end)
            as pct_flagged,
        cast(
            coalesce(
                sum(current_features.lifetime_net_revenue) filter (
                    where anomalies.is_anomaly
                )
                / nullif(sum(current_features.lifetime_net_revenue), 0),
                0
            ) as double
        ) as pct_net_revenue_flagged,
        cast(
            count(*) filter (
                where
                anomalies.is_anomaly
                and next_best_actions.action <> 'review_account'
            ) as double
        ) as flagged_with_marketing_action
    from anomalies
    left join current_features
        on anomalies.customer_id = current_features.customer_id
    left join next_best_actions
        on anomalies.customer_id = next_best_actions.customer_id

),

associations as (

    select * from {{ ref('fct_product_associations') }}

),

baskets as (

    {#- the baskets the rules count (their support's denominator) -#}
    select * from {{ ref('int_order_baskets') }}

),

rule_counts as (

    select
        cast(
            count(*) filter (where association_level = 'product') as double
        ) as product_rules,
        cast(
            count(*) filter (where association_level = 'category') as double
        ) as category_rules
    from associations

),

basket_totals as (

    select
        cast(count(*) as double) as baskets,
        cast(count(*) filter (where len(product_keys) >= 2) as double)
            as multi_product_baskets
    from baskets

),

association_summary as (

    select
        rule_counts.product_rules,
        rule_counts.category_rules,
        basket_totals.baskets,
        basket_totals.multi_product_baskets
    from rule_counts
    cross join basket_totals

),

rfm as (

    select * from {{ ref('dim_customer_rfm') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

data_window as (

    select min(first_purchase_period_start) as data_window_start
    from rfm

),

all_metrics as (

    select
        model_name,
        candidate,
        metric_name,
        value as metric_value,
        is_published,
        note,
        fitted_as_of
    from clv_parameters

    union all

    select
        model_name,
        candidate,
        feature_name as metric_name,
        value as metric_value,
        candidate = 'kmeans_nearest_centroid' as is_published,
        note,
        fitted_as_of
    from segment_model

    union all

    select
        model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note,
        fitted_as_of
    from churn_evaluation

    union all

    select
        model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note,
        fitted_as_of
    from purchase_evaluation

    union all

    select
        model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note,
        fitted_as_of
    from recommendation_evaluation

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        metric_name,
        metric_value,
        true as is_published,
        null as note,
        cast(null as date) as fitted_as_of
    from anomaly_summary
    unpivot (
        metric_value for metric_name in (
            customers,
            flagged_customers,
            pct_flagged,
            pct_net_revenue_flagged,
            flagged_with_marketing_action
        )
    )

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        'fitted' as metric_name,
        case when customers > 0 then 1.0 else 0.0 end as metric_value,
        true as is_published,
        case
            when customers = 0
                then 'no buyers: nothing to compare a customer with'
        end as note,
        cast(null as date) as fitted_as_of
    from anomaly_summary

    union all

    select
        'associations' as model_name,
        'pair_rules' as candidate,
        metric_name,
        metric_value,
        true as is_published,
        null as note,
        cast(null as date) as fitted_as_of
    from association_summary
    unpivot (
        metric_value for metric_name in (
            baskets, multi_product_baskets, product_rules, category_rules
        )
    )

    union all

    select
        'associations' as model_name,
        'pair_rules' as candidate,
        'fitted' as metric_name,
        case
            when product_rules + category_rules > 0 then 1.0 else 0.0
        end as metric_value,
        true as is_published,
        case
            when product_rules + category_rules = 0
                then
                    'no rule: ' || cast(multi_product_baskets as bigint)
                    || ' of ' || cast(baskets as bigint)
                    || ' baskets (completed orders with a product of the '
                    || 'catalogue) hold two or more of its products, and '
                    || 'no pair reaches support '
                    || {{ var('association_min_support') }}
                    || ' and confidence '
                    || {{ var('association_min_confidence') }}
        end as note,
        cast(null as date) as fitted_as_of
    from association_summary

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        'magnitude_factor' as metric_name,
        {{ var('anomaly_magnitude_factor') }} as metric_value,
        true as is_published,
        null as note,
        cast(null as date) as fitted_as_of

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        'return_p' as metric_name,
        {{ var('anomaly_return_p') }} as metric_value,
        true as is_published,
        null as note,
        cast(null as date) as fitted_as_of

),

final as (

    select
        all_metrics.model_name || ':' || all_metrics.candidate || ':'
        || all_metrics.metric_name as model_metric_id,
        all_metrics.model_name,
        all_metrics.candidate,
        all_metrics.metric_name,
        all_metrics.metric_value,
        all_metrics.is_published,
        cast(all_metrics.note as varchar) as note,
        data_window.data_window_start,
        as_of.as_of_date as data_window_end,
        as_of.as_of_date,
        -- the fits are kept until the refit schedule says otherwise
        -- (crm_analytics.ml.schedule); anomalies and associations are
        -- computed in every run
        coalesce(all_metrics.fitted_as_of, as_of.as_of_date) as fitted_as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as evaluated_at
    from all_metrics
    cross join data_window
    cross join as_of

)

select * from final
