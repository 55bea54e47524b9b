{#- One row per kept order line of a sale in int_orders_enriched (so placed
    on or before as_of_date), with its customer, the order's status and the
    line's money. A credit document's lines are not here: its refund is in
    int_order_refunds and nets against the order it matched. The one place
    line money is computed: fct_order_items publishes it.

    Incremental by customer: a run rebuilds the rows of the customers that
    order_chain_changed_customers finds, after deleting theirs. Every run
    equals a full refresh. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks('order_chain_changed_customers')
) }}

{{ rebuild_in_full_when([], required_column='built_as_of_date') }}

{#- order_chain_changed_customers (a pre_hook) reads these too -#}
-- depends_on: {{ ref('int_order_documents') }}
-- depends_on: {{ ref('int_transactions_validated') }}
-- depends_on: {{ ref('int_customer_identity_map') }}
-- depends_on: {{ ref('int_as_of_date') }}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where
        order_status <> 'credit_note'
        and {{ of_changed_customers() }}

),

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept'
    {%- if is_incremental() %}
        and order_id in (select order_id from orders)
    {%- endif %}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

final as (

    select
        order_lines.order_id || '-' || order_lines.line_number
            as order_item_id,
        order_lines.order_id,
        orders.order_row_number,
        orders.customer_id,
        order_lines.product_id,
        orders.order_status,
        order_lines.line_number,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.line_discount,
        {#- line money keeps the prices' 4 decimals; order money is cents.
            "Net" is order money after refunds: a line is only discounted. -#}
        cast(
            order_lines.quantity * order_lines.unit_price as {{ money_type(4) }}
        ) as gross_line_amount,
        cast(
            order_lines.quantity * order_lines.unit_price
            - order_lines.line_discount as {{ money_type(4) }}
        ) as line_amount_after_discount,
        cast(order_lines.quantity * products.unit_cost as {{ money_type(4) }})
            as line_cost,
        order_lines.line_discount > 0 as is_discounted,
        orders.is_completed,
        orders.order_date,
        orders.ordered_at,
        as_of.as_of_date as built_as_of_date,
        {{ run_timestamp() }} as built_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.product_id = products.product_id
    cross join as_of

)

select * from final
