{#- Customer 360: one row per resolved customer known on as_of_date, the
    core profile and order history joined with every customer metric mart,
    so one table answers most questions. No personal data: names, email,
    phone, street address, postal code and birth date stay in the build
    file (restricted.dim_customer_contacts); BI gets email_hash and
    age_band. -#}
with

customers as (

    select * from {{ ref('int_customers_enriched') }}

),

rfm as (

    select * from {{ ref('dim_customer_rfm') }}

),

loyalty as (

    select * from {{ ref('dim_customer_loyalty') }}

),

customer_value as (

    select * from {{ ref('dim_customer_value') }}

),

satisfaction as (

    select * from {{ ref('dim_customer_satisfaction') }}

),

preferences as (

    select * from {{ ref('dim_customer_preferences') }}

),

seasonality as (

    select * from {{ ref('dim_customer_seasonality') }}

),

signals as (

    select * from {{ ref('fct_customer_signals') }}

),

clv as (

    select * from {{ ref('fct_customer_clv_predictions') }}

),

segments as (

    select * from {{ ref('dim_customer_segments') }}

),

churn_scores as (

    select * from {{ ref('fct_customer_churn_scores') }}

),

anomalies as (

    select * from {{ ref('fct_customer_anomalies') }}

),

next_best_actions as (

    select * from {{ ref('fct_customer_next_best_action') }}

),

email_hashes as (

    select * from {{ ref('int_customer_email_hashes') }}

),

final as (

    select
        customers.customer_id,
        email_hashes.email_hash,
        customers.city,
        customers.country_code,
        customers.gender,
        customers.income_band,
        {{ age_band('customers.birth_date', 'customers.as_of_date') }}
            as age_band,
        rfm.rfm_segment,
        loyalty.loyalty_tier,
        customer_value.value_tier,
        satisfaction.latest_nps_class,
        satisfaction.satisfaction_trend,
        preferences.top_category,
        preferences.top_brand,
        preferences.preferred_channel,
        preferences.price_sensitivity,
        segments.segment_id,
        segments.segment_name,
        churn_scores.churn_risk_band,
        next_best_actions.action as next_best_action,
        nullif(anomalies.anomaly_reasons, '') as anomaly_reasons,
        next_best_actions.recommended_product_id,
        customers.count_source_records,
        customers.count_orders,
        customers.count_completed_orders,
        customers.count_cancelled_orders,
        customers.count_returned_orders,
        customers.count_unconfirmed_orders,
        customers.lifetime_gross_revenue,
        customers.lifetime_net_revenue,
        customer_value.lifetime_gross_margin,
        customer_value.avg_order_value,
        customers.days_since_last_purchase,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        loyalty.loyalty_score,
        clv.p_alive,
        clv.expected_purchases_365d,
        clv.predicted_clv,
        churn_scores.p_churn,
        next_best_actions.expected_value as next_best_action_value,
        satisfaction.avg_nps_score,
        satisfaction.avg_csat_score,
        satisfaction.count_tickets,
        satisfaction.count_open_tickets,
        seasonality.peak_month,
        customers.is_in_crm,
        customers.is_in_shop,
        customers.is_in_transactions,
        customers.has_marketing_consent,
        customers.is_buyer,
        coalesce(loyalty.is_repeat_buyer, false) as is_repeat_buyer,
        coalesce(seasonality.is_seasonal_buyer, false) as is_seasonal_buyer,
        coalesce(signals.is_overdue, false) as is_overdue,
        coalesce(signals.has_spend_spike, false) as has_spend_spike,
        coalesce(signals.has_engagement_drop, false) as has_engagement_drop,
        coalesce(signals.has_repeated_unresolved_tickets, false)
            as has_repeated_unresolved_tickets,
        coalesce(anomalies.is_anomaly, false) as is_anomaly,
        customers.first_order_date,
        customers.last_order_date,
        customers.first_purchase_date,
        customers.last_purchase_date,
        seasonality.next_expected_purchase_date,
        customers.as_of_date,
        customers.signed_up_at
    from customers
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join loyalty
        on customers.customer_id = loyalty.customer_id
    left join customer_value
        on customers.customer_id = customer_value.customer_id
    left join satisfaction
        on customers.customer_id = satisfaction.customer_id
    left join preferences
        on customers.customer_id = preferences.customer_id
    left join seasonality
        on customers.customer_id = seasonality.customer_id
    left join signals
        on customers.customer_id = signals.customer_id
    left join clv
        on customers.customer_id = clv.customer_id
    left join segments
        on customers.customer_id = segments.customer_id
    left join churn_scores
        on customers.customer_id = churn_scores.customer_id
    left join anomalies
        on customers.customer_id = anomalies.customer_id
    left join next_best_actions
        on customers.customer_id = next_best_actions.customer_id
    left join email_hashes
        on customers.customer_id = email_hashes.customer_id

)

select * from final
