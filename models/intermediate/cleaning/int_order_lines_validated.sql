{#- Every raw order line row with its fate. Lines are quarantined, first
    reason wins, when they credit units (negative quantity) on an order that
    is not a kept credit document (invalid_quantity), their order exists in
    no order row (unknown_order),
    the product is unknown, the price is absurd against the list price
    (invalid_price), or their order was itself quarantined
    (parent_quarantined): the line's own defects come before inherited
    ones. Incremental: a run re-triages the lines with rows in a new load
    batch, those quarantined for a reference (which may exist now) and kept
    ones whose order, product or list price no longer holds (see
    incremental_scope). -#}
{{ config(
    materialized='incremental',
    unique_key='source_row_number',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}

with

orders as (

    select * from {{ ref('int_orders_validated') }}

),

products as (

    select * from {{ ref('int_products_validated') }}

),

order_fates as (

    select
        order_id,
        bool_or(row_status = 'kept') as has_kept_row,
        bool_or(row_status = 'kept' and order_status = 'credit_note')
            as is_credit_note
    from orders
    where order_id is not null
    group by 1

),

kept_products as (

    select
        product_id,
        list_price
    from products
    where row_status = 'kept'

),

scoped as (

    {{ incremental_scope(
        ref('stg_shop__order_lines'),
        ['order_id', 'line_number'],
        "previous.quantity < 0 or "
        ~ "previous.dq_reason in ('unknown_order', 'unknown_product', "
        ~ "'invalid_price', 'parent_quarantined') or ("
        ~ "previous.row_status <> 'quarantined' and ("
        ~ "previous.order_id not in (select order_id from order_fates "
        ~ "where has_kept_row) or not exists (select 1 from kept_products "
        ~ "where kept_products.product_id = previous.product_id "
        ~ "and previous.unit_price <= " ~ var('max_price_to_list_ratio')
        ~ " * kept_products.list_price)))",
        raw_table='order_lines'
    ) }}

),

checked as (

    select
        scoped.* exclude (dq_reason),
        coalesce(
            scoped.dq_reason,
            case
                when
                    scoped.quantity < 0
                    and not coalesce(order_fates.is_credit_note, false)
                    then 'invalid_quantity'
                when order_fates.order_id is null then 'unknown_order'
                when kept_products.product_id is null then 'unknown_product'
                when
                    scoped.unit_price
                    > {{ var('max_price_to_list_ratio') }}
                    * kept_products.list_price
                    then 'invalid_price'
                when not order_fates.has_kept_row then 'parent_quarantined'
            end
        ) as dq_reason
    from scoped
    left join order_fates
        on scoped.order_id = order_fates.order_id
    left join kept_products
        on scoped.product_id = kept_products.product_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['order_id', 'line_number'],
        'source_row_number desc'
    ) }}

)

select * from triaged
