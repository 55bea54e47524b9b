{#- One row per model x metric of the latest build: fitted parameters, fit
    statistics and evaluation metrics of every ML model, for BI. -#}
with

clv_parameters as (

    select * from {{ ref('int_clv_parameters') }}

),

segment_model as (

    select * from {{ ref('int_segment_model') }}
    where parameter_name = 'metric'

),

current_features as (

    select * from {{ ref('int_customer_feature_snapshots') }}
    where snapshot_name = 'current'

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
        note
    from clv_parameters

    union all

    select
        'segmentation' as model_name,
        candidate,
        feature_name as metric_name,
        value as metric_value,
        candidate = 'kmeans_nearest_centroid' as is_published,
        note
    from segment_model

    union all

    select
        'churn' as model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note
    from churn_evaluation

    union all

    select
        'purchase_propensity' as model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note
    from purchase_evaluation

    union all

    select
        'recommendations' as model_name,
        candidate,
        metric_name,
        metric_value,
        is_published,
        note
    from recommendation_evaluation

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        metric_name,
        metric_value,
        true as is_published,
        null as note
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
        'magnitude_factor' as metric_name,
        {{ var('anomaly_magnitude_factor') }} as metric_value,
        true as is_published,
        null as note

    union all

    select
        'anomalies' as model_name,
        'evidence_threshold' as candidate,
        'return_p' as metric_name,
        {{ var('anomaly_return_p') }} as metric_value,
        true as is_published,
        null as note

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
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as evaluated_at
    from all_metrics
    cross join data_window
    cross join as_of

)

select * from final
