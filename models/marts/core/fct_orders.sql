{#- One row per order placed on or before as_of_date, and one per refund
    made by then that matched no order (status credit_note). -#}
with

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

orders_in_window as (

    select orders.*
    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date

),

sequenced as (

    select
        *,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as customer_order_number,
        coalesce(
            sum(case when is_completed then 1 else 0 end) over (
                partition by customer_id
                order by ordered_at, order_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as count_prior_completed_orders
    from orders_in_window

),

final as (

    select
        order_id,
        customer_id,
        source_system,
        order_status,
        channel,
        customer_order_number,
        count_lines,
        sum_quantity,
        lines_amount,
        line_discount_amount,
        order_discount_amount,
        shipping_amount,
        gross_revenue,
        refunded_amount,
        net_revenue,
        cost_of_goods,
        is_completed,
        order_status = 'cancelled' as is_cancelled,
        order_status = 'returned' as is_returned,
        count_prior_completed_orders > 0 as is_repeat_order,
        order_date,
        ordered_at
    from sequenced

)

select * from final
