{#- One row per kept order document from any system, before refunds:
    shop orders (sales and credit documents) and the sales built from the
    transactions file (its rows with an amount of 0 or more sharing an
    order_id; a row without one is its own order, `T<row>`; negative rows are
    refunds, see int_order_refunds). gross_revenue = line value - line
    discounts - order discount (merchandise, excluding shipping; for a credit
    document the value it credits). Not cut at as_of_date.

    Incremental by customer: a run rebuilds the documents of the customers
    that order_documents_changed_customers finds (a new or re-triaged
    order or line since the model was last built, a changed identity, any
    transactions-file sale), after deleting theirs; a change it cannot
    follow by customer (the product costs, a cleaning model rebuilt in
    full) rebuilds it in full. Every run equals a full refresh. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks('order_documents_changed_customers')
) }}

{%- set product_costs_digest -%}
    (
        select md5(coalesce(
            string_agg(
                product_id || ':' || coalesce(cast(unit_cost as varchar), ''),
                ',' order by product_id
            ),
            ''
        ))
        from {{ ref('int_products_validated') }}
        where row_status = 'kept'
    )
{%- endset %}

{%- set built_at -%}(select max(built_at) from {{ this }}){%- endset %}

{{ rebuild_in_full_when([
    digest_changed(product_costs_digest, 'product_costs_digest',
        'the products\' costs changed'),
    {'query': 'select (select min(triaged_at) from '
        ~ ref('int_orders_validated') ~ ') > ' ~ built_at
        ~ ' or (select min(triaged_at) from '
        ~ ref('int_order_lines_validated') ~ ') > ' ~ built_at,
     'why': 'a cleaning model it reads was rebuilt in full'},
], required_column='product_costs_digest') }}

with

orders as (

    select * from {{ ref('int_orders_validated') }}
    where row_status = 'kept'

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}
    where {{ of_changed_customers() }}

),

customer_orders as (

    select
        orders.*,
        identity_map.customer_id
    from orders
    inner join identity_map
        on
            identity_map.source_system = 'shop'
            and orders.account_id = identity_map.source_customer_id

),

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept'
    {%- if is_incremental() %}
        and order_id in (select order_id from customer_orders)
    {%- endif %}

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

transactions as (

    select * from {{ ref('int_transactions_validated') }}
    where row_status = 'kept'

),

line_totals as (

    select
        order_lines.order_id,
        count(*) as count_lines,
        {#- a credit document's lines may carry negative quantities: its
            value is what it credits -#}
        sum(abs(order_lines.quantity)) as sum_quantity,
        sum(abs(order_lines.quantity) * order_lines.unit_price)
            as lines_amount,
        sum(order_lines.line_discount) as line_discount_amount,
        sum(abs(order_lines.quantity) * products.unit_cost) as cost_of_goods
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
    group by 1

),

shop_orders as (

    select
        orders.order_id,
        orders.source_row_number as order_row_number,
        orders.customer_id,
        orders.account_id as source_customer_id,
        'shop' as source_system,
        orders.order_status,
        orders.original_order_id,
        orders.channel,
        coalesce(line_totals.count_lines, 0) as count_lines,
        coalesce(line_totals.sum_quantity, 0) as sum_quantity,
        coalesce(line_totals.lines_amount, 0) as lines_amount,
        coalesce(line_totals.line_discount_amount, 0) as line_discount_amount,
        orders.discount_amount as order_discount_amount,
        orders.shipping_amount,
        greatest(
            coalesce(line_totals.lines_amount, 0)
            - coalesce(line_totals.line_discount_amount, 0)
            - orders.discount_amount,
            0
        ) as gross_revenue,
        line_totals.cost_of_goods,
        orders.refunded_amount as recorded_refund_amount,
        orders.refunded_at as recorded_refunded_at,
        orders.ordered_at
    from customer_orders as orders
    left join line_totals
        on orders.order_id = line_totals.order_id

),

transaction_orders as (

    select
        transactions.order_key as order_id,
        cast(null as bigint) as order_row_number,
        identity_map.customer_id,
        min(transactions.customer_source_id) as source_customer_id,
        'transactions' as source_system,
        'completed' as order_status,
        null as original_order_id,
        null as channel,
        0 as count_lines,
        0 as sum_quantity,
        sum(transactions.amount) as lines_amount,
        0 as line_discount_amount,
        0 as order_discount_amount,
        0 as shipping_amount,
        sum(transactions.amount) as gross_revenue,
        cast(null as {{ money_type() }}) as cost_of_goods,
        0 as recorded_refund_amount,
        cast(null as timestamp) as recorded_refunded_at,
        min(transactions.transacted_at) as ordered_at
    from transactions
    inner join identity_map
        on
            identity_map.source_system = 'transactions'
            and transactions.customer_source_id
            = identity_map.source_customer_id
    where transactions.amount >= 0
    group by 1, 2, 3

),

all_orders as (

    select * from shop_orders
    union all
    select * from transaction_orders

),

final as (

    select
        order_id,
        order_row_number,
        customer_id,
        source_customer_id,
        source_system,
        order_status,
        original_order_id,
        channel,
        cast(count_lines as bigint) as count_lines,
        cast(sum_quantity as bigint) as sum_quantity,
        cast(lines_amount as {{ money_type() }}) as lines_amount,
        cast(line_discount_amount as {{ money_type() }})
            as line_discount_amount,
        cast(order_discount_amount as {{ money_type() }})
            as order_discount_amount,
        cast(shipping_amount as {{ money_type() }}) as shipping_amount,
        cast(gross_revenue as {{ money_type() }}) as gross_revenue,
        cast(cost_of_goods as {{ money_type() }}) as cost_of_goods,
        cast(recorded_refund_amount as {{ money_type() }})
            as recorded_refund_amount,
        order_status = 'credit_note' as is_credit_note,
        recorded_refunded_at,
        ordered_at,
        {{ product_costs_digest }} as product_costs_digest,
        {{ run_timestamp() }} as built_at
    from all_orders

)

select * from final
