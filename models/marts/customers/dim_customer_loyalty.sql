{#- One row per customer with at least one completed order up to
    as_of_date: repeat behaviour, cadence, tenure, share of wallet and a
    loyalty score (0-100) and tier. -#}
with

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}
    where count_completed_orders > 0

),

category_spend as (

    select * from {{ ref('fct_customer_category_spend') }}

),

wallet as (

    select
        customer_id,
        count(*) as count_categories_bought,
        max(pct_spend) as pct_spend_top_category
    from category_spend
    group by 1

),

measured as (

    select
        order_summary.customer_id,
        order_summary.count_completed_orders,
        order_summary.count_purchase_days,
        order_summary.days_since_last_purchase,
        order_summary.as_of_date - order_summary.first_purchase_date
            as tenure_days,
        (order_summary.as_of_date - order_summary.first_purchase_date)
        / 30.4375 as tenure_months,
        order_summary.avg_days_between_purchases,
        order_summary.median_days_between_purchases,
        coalesce(order_summary.cadence_regularity, 0) as cadence_regularity,
        wallet.count_categories_bought,
        wallet.pct_spend_top_category
    from order_summary
    left join wallet
        on order_summary.customer_id = wallet.customer_id

),

rated as (

    select
        *,
        count_completed_orders / greatest(tenure_months, 1)
            as purchases_per_month
    from measured

),

scored as (

    select
        *,
        100 * (
            0.35 * percent_rank() over (order by purchases_per_month)
            + 0.25 * percent_rank()
                over (
                    order by days_since_last_purchase desc
                )
            + 0.20 * percent_rank() over (order by tenure_days)
            + 0.20 * cadence_regularity
        ) as loyalty_score
    from rated

),

final as (

    select
        customer_id,
        case
            when loyalty_score >= 75 then 'platinum'
            when loyalty_score >= 50 then 'gold'
            when loyalty_score >= 25 then 'silver'
            else 'bronze'
        end as loyalty_tier,
        count_completed_orders,
        count_purchase_days,
        count_categories_bought,
        tenure_days,
        days_since_last_purchase,
        round(tenure_months, 2) as tenure_months,
        round(purchases_per_month, 4) as purchases_per_month,
        round(
            (count_completed_orders - 1) / count_completed_orders, 4
        ) as pct_repeat_orders,
        round(avg_days_between_purchases, 2) as avg_days_between_purchases,
        median_days_between_purchases,
        round(cadence_regularity, 4) as cadence_regularity,
        round(pct_spend_top_category, 4) as pct_spend_top_category,
        round(loyalty_score, 2) as loyalty_score,
        count_purchase_days > 1 as is_repeat_buyer
    from scored

)

select * from final
