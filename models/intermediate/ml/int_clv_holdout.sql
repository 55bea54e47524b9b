{#- The CLV holdout: one row per customer with a completed order on or
    before the calibration end (as_of_date - var clv_holdout_days), with
    the RFM summary as of that day and the purchase periods they actually
    made in the holdout (calibration end, as_of_date]. -#}
with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where is_completed

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

windows as (

    select
        as_of_date,
        cast(as_of_date - {{ var('clv_holdout_days') }} as date)
            as calibration_end_date
    from as_of

),

calibration as (

    {{ rfm_summary('orders', '(select calibration_end_date from windows)') }}

),

holdout_purchases as (

    select
        orders.customer_id,
        count(distinct {{ rfm_period_start('orders.order_date') }})
            as count_holdout_periods
    from orders
    cross join windows
    where
        orders.order_date > windows.calibration_end_date
        and orders.order_date <= windows.as_of_date
    group by 1

),

final as (

    select
        calibration.customer_id,
        calibration.rfm_time_unit,
        calibration.frequency,
        calibration.recency,
        calibration.t,
        calibration.monetary_value,
        coalesce(holdout_purchases.count_holdout_periods, 0)
            as count_holdout_periods,
        {{ var('clv_holdout_days') }} as holdout_days,
        windows.calibration_end_date,
        windows.as_of_date
    from calibration
    cross join windows
    left join holdout_purchases
        on calibration.customer_id = holdout_purchases.customer_id

)

select * from final
