{#- Customer lifetime revenue equals the sum over fct_orders, and the
    warehouse total equals the total of the kept orders up to as_of_date. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

order_totals as (

    select
        sum(net_revenue) as sum_net_revenue,
        sum(gross_revenue) as sum_gross_revenue,
        {#- a refund that matched no order is a row, not an order -#}
        count(*) filter (where order_status <> 'credit_note') as count_orders
    from orders

),

customer_totals as (

    select
        sum(lifetime_net_revenue) as sum_net_revenue,
        sum(lifetime_gross_revenue) as sum_gross_revenue,
        sum(count_orders) as count_orders
    from customers

)

select
    order_totals.sum_net_revenue as order_net_revenue,
    customer_totals.sum_net_revenue as customer_net_revenue,
    order_totals.sum_gross_revenue as order_gross_revenue,
    customer_totals.sum_gross_revenue as customer_gross_revenue,
    order_totals.count_orders as count_order_rows,
    customer_totals.count_orders as count_customer_orders
from order_totals
cross join customer_totals
where
    order_totals.sum_net_revenue <> customer_totals.sum_net_revenue
    or order_totals.sum_gross_revenue <> customer_totals.sum_gross_revenue
    or order_totals.count_orders <> customer_totals.count_orders
