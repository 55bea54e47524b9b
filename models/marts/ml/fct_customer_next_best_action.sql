{#- One next-best action per buyer: every rule of the seed
    next_best_action_rules whose conditions the customer meets is valued
    (uplift x value basis - cost) and the most valuable wins. A customer
    flagged by fct_customer_anomalies meets only the rules marked
    requires_anomaly (review_account): a bulk reseller's revenue is not a
    loyalty signal, and a discount is the wrong answer to it. -#}
with

customers as (

    select * from {{ ref('int_customer_features_current') }}

),

segments as (

    select * from {{ ref('dim_customer_segments') }}

),

churn_scores as (

    select * from {{ ref('fct_customer_churn_scores') }}

),

clv_predictions as (

    select * from {{ ref('fct_customer_clv_predictions') }}

),

purchase_propensity as (

    select * from {{ ref('fct_customer_purchase_propensity') }}

),

anomalies as (

    select * from {{ ref('fct_customer_anomalies') }}

),

satisfaction as (

    select * from {{ ref('dim_customer_satisfaction') }}

),

recommendations as (

    select * from {{ ref('fct_customer_recommendations') }}
    where recommendation_rank = 1

),

products as (

    select * from {{ ref('dim_products') }}

),

rules as (

    -- an empty segment in the rule table means any segment
    select * replace (nullif(segment_id, '') as segment_id)
    from {{ ref('next_best_action_rules') }}

),

customer_context as (

    select
        customers.customer_id,
        segments.segment_id,
        churn_scores.churn_risk_band,
        recommendations.product_id as recommended_product_id,
        churn_scores.p_churn,
        purchase_propensity.p_purchase,
        coalesce(clv_predictions.predicted_clv, 0) as predicted_clv,
        coalesce(
            clv_predictions.expected_avg_order_value, customers.avg_order_value
        ) as expected_order_value,
        products.list_price as recommended_list_price,
        customers.count_purchase_days,
        customers.is_active,
        coalesce(anomalies.is_anomaly, false) as is_anomaly,
        coalesce(satisfaction.count_open_tickets, 0) > 0
        or coalesce(satisfaction.latest_nps_class = 'detractor', false)
        or coalesce(satisfaction.latest_csat_score <= 2, false)
            as has_service_issue,
        customers.cutoff_date as as_of_date
    from customers
    left join segments
        on customers.customer_id = segments.customer_id
    left join churn_scores
        on customers.customer_id = churn_scores.customer_id
    left join clv_predictions
        on customers.customer_id = clv_predictions.customer_id
    left join purchase_propensity
        on customers.customer_id = purchase_propensity.customer_id
    left join anomalies
        on customers.customer_id = anomalies.customer_id
    left join satisfaction
        on customers.customer_id = satisfaction.customer_id
    left join recommendations
        on customers.customer_id = recommendations.customer_id
    left join products
        on recommendations.product_id = products.product_id

),

eligible_actions as (

    select
        customer_context.*,
        rules.action,
        rules.description as action_description,
        rules.priority,
        rules.uplift * case rules.value_basis
            when 'clv_at_risk'
                then customer_context.p_churn * customer_context.predicted_clv
            when 'clv' then customer_context.predicted_clv
            when 'next_order' then customer_context.expected_order_value
            when 'recommendation'
                then
                    customer_context.p_purchase
                    * customer_context.recommended_list_price
            else 0
        end - rules.action_cost as expected_value
    from customer_context
    inner join rules
        on
            (
                rules.customer_status = 'any'
                or (
                    rules.customer_status = 'active'
                    and customer_context.is_active
                )
                or (
                    rules.customer_status = 'lapsed'
                    and not customer_context.is_active
                )
            )
            and customer_context.is_anomaly = rules.requires_anomaly
            and (
                rules.segment_id is null
                or customer_context.segment_id = rules.segment_id
            )
            and (
                rules.max_purchase_days is null
                or customer_context.count_purchase_days
                <= rules.max_purchase_days
            )
            and (
                rules.min_p_churn is null
                or customer_context.p_churn >= rules.min_p_churn
            )
            and (
                rules.max_p_churn is null
                or customer_context.p_churn < rules.max_p_churn
            )
            and (
                not rules.requires_service_issue
                or customer_context.has_service_issue
            )
            and (
                not rules.requires_recommendation
                or customer_context.recommended_product_id is not null
            )

),

ranked_actions as (

    select
        *,
        count(*) over (partition by customer_id) as count_eligible_actions,
        row_number() over (
            partition by customer_id
            order by coalesce(expected_value, 0) desc, priority asc
        ) as action_rank
    from eligible_actions

),

final as (

    select
        customer_id,
        action,
        action_description,
        case
            when action = 'upsell_product' then recommended_product_id
        end as recommended_product_id,
        segment_id,
        churn_risk_band,
        coalesce(expected_value, 0) as expected_value,
        p_churn,
        predicted_clv,
        count_eligible_actions,
        is_active,
        has_service_issue,
        is_anomaly,
        as_of_date
    from ranked_actions
    where action_rank = 1

)

select * from final
