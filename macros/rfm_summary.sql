{#- The RFM summary of lifetimes' summary_data_from_transaction_data, as one
    select: one row per customer with a completed order on or before
    `as_of_date` in `orders` (customer_id, order_date, net_revenue of
    completed orders). Purchases are aggregated per period (var
    rfm_period_grain); frequency = periods - 1; recency = first to last
    period and t = first period to as_of_date's period, in var
    rfm_time_unit; monetary_value = mean of the repeat periods' net revenue
    (0 for one-time buyers); rfm_time_unit names the unit. Used by the
    per-customer base (int_customer_order_history) and the CLV holdout. -#}
{% macro rfm_summary(orders, as_of_date) -%}
    select
        customer_id,
        '{{ var("rfm_time_unit") }}' as rfm_time_unit,
        count(*) - 1 as frequency,
        date_diff('day', min(period_start), max(period_start))
        / {{ rfm_time_unit_days() }} as recency,
        {{ rfm_t('min(period_start)', as_of_date) }} as t,
        -- the repeat periods are every period but the first: no window
        -- numbering them (a sort of every period, 1.4x the query's time)
        coalesce(
            (sum(period_revenue) - arg_min(period_revenue, period_start))
            / nullif(count(*) - 1, 0),
            0
        ) as monetary_value,
        sum(count_orders) as count_orders,
        sum(period_revenue) as sum_net_revenue,
        min(period_start) as first_period_start,
        max(last_order_date) as last_purchase_date,
        date_diff('day', max(last_order_date), {{ as_of_date }})
            as days_since_last_purchase
    from (
        select
            customer_id,
            {{ rfm_period_start('order_date') }} as period_start,
            count(*) as count_orders,
            sum(net_revenue) as period_revenue,
            max(order_date) as last_order_date
        from {{ orders }}
        where order_date <= {{ as_of_date }}
        group by 1, 2
    ) as purchase_periods
    group by 1
{%- endmacro %}


{#- lifetimes' T: from the first purchase period (`first_period_start`) to
    the period of `as_of_date`, in var rfm_time_unit. -#}
{% macro rfm_t(first_period_start, as_of_date) -%}
    date_diff('day', {{ first_period_start }}, {{ rfm_period_start(as_of_date) }})
    / {{ rfm_time_unit_days() }}
{%- endmacro %}
