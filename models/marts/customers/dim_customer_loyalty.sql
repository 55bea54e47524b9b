{#- One row per customer with at least one completed order up to
    as_of_date: repeat behaviour, cadence, tenure, share of wallet and a
    loyalty score (0-100) and tier. -#}
with

rfm as (

    select * from {{ ref('dim_customer_rfm') }}

),

intervals as (

    select * from {{ ref('int_customer_purchase_intervals') }}

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
        rfm.customer_id,
        rfm.count_orders as count_completed_orders,
        intervals.count_purchase_days,
        rfm.days_since_last_purchase,
        rfm.as_of_date - intervals.first_purchase_date as tenure_days,
        (rfm.as_of_date - intervals.first_purchase_date) / 30.4375
            as tenure_months,
        intervals.avg_days_between_purchases,
        intervals.median_days_between_purchases,
        coalesce(intervals.cadence_regularity, 0) as cadence_regularity,
        wallet.count_categories_bought,
        wallet.pct_spend_top_category
    from rfm
    inner join intervals
        on rfm.customer_id = intervals.customer_id
    left join wallet
        on rfm.customer_id = wallet.customer_id

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
