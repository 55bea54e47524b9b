{#- One row per customer with at least one completed order up to
    as_of_date: when in the year and week they buy, how concentrated and how
    regular that is, and when their own cadence expects the next purchase. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_completed

),

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}
    where count_completed_orders > 0

),

month_counts as (

    select
        customer_id,
        month(order_date) as purchase_month,
        count(*) as count_orders
    from orders
    group by 1, 2

),

month_shares as (

    select
        customer_id,
        purchase_month,
        count_orders,
        count_orders / sum(count_orders) over (partition by customer_id)
            as pct_orders,
        row_number() over (
            partition by customer_id
            order by count_orders desc, purchase_month asc
        ) as month_rank
    from month_counts

),

month_profile as (

    select
        customer_id,
        cast(sum(count_orders) as bigint) as count_completed_orders,
        cast(
            coalesce(
                sum(count_orders) filter (where purchase_month in (11, 12)), 0
            ) as bigint
        ) as count_holiday_season_orders,
        max(purchase_month) filter (where month_rank = 1) as peak_month,
        max(pct_orders) filter (where month_rank = 1)
            as pct_orders_peak_month,
        coalesce(
            sum(pct_orders) filter (where purchase_month in (11, 12)), 0
        ) as pct_orders_holiday_season,
        sum(pct_orders * pct_orders) as month_concentration
    from month_shares
    group by 1

),

weekday_counts as (

    select
        customer_id,
        isodow(order_date) as purchase_weekday,
        count(*) as count_orders,
        row_number() over (
            partition by customer_id
            order by count(*) desc, isodow(order_date)
        ) as weekday_rank,
        count(*) / sum(count(*)) over (partition by customer_id)
            as pct_orders
    from orders
    group by 1, 2

),

weekday_profile as (

    select
        customer_id,
        purchase_weekday as peak_weekday,
        pct_orders as pct_orders_peak_weekday
    from weekday_counts
    where weekday_rank = 1

),

final as (

    select
        month_profile.customer_id,
        month_profile.count_completed_orders,
        month_profile.count_holiday_season_orders,
        cast(month_profile.peak_month as integer) as peak_month,
        cast(weekday_profile.peak_weekday as integer) as peak_weekday,
        round(month_profile.pct_orders_peak_month, 4) as pct_orders_peak_month,
        round(weekday_profile.pct_orders_peak_weekday, 4)
            as pct_orders_peak_weekday,
        round(month_profile.pct_orders_holiday_season, 4)
            as pct_orders_holiday_season,
        round(month_profile.pct_orders_holiday_season / (2.0 / 12), 4)
            as holiday_season_uplift,
        round(month_profile.month_concentration, 4) as month_concentration,
        round(order_summary.cadence_regularity, 4) as cadence_regularity,
        order_summary.median_days_between_purchases,
        month_profile.count_holiday_season_orders
        >= {{ var('seasonal_min_holiday_orders') }}
        and month_profile.pct_orders_holiday_season
        >= {{ var('seasonal_min_holiday_share') }} as is_seasonal_buyer,
        order_summary.last_purchase_date,
        cast(
            order_summary.last_purchase_date
            + cast(
                round(order_summary.median_days_between_purchases) as integer
            )
            as date
        ) as next_expected_purchase_date
    from month_profile
    inner join weekday_profile
        on month_profile.customer_id = weekday_profile.customer_id
    inner join order_summary
        on month_profile.customer_id = order_summary.customer_id

)

select * from final
