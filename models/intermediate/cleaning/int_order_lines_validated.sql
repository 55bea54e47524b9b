{#- Every raw order line row with its fate. Lines are quarantined, first
    reason wins, when they credit units (negative quantity) on an order that
    is not a kept credit document (invalid_quantity), their order exists in
    no order row (unknown_order),
    the product is unknown, the price is absurd against the list price
    (invalid_price), or their order was itself quarantined
    (parent_quarantined): the line's own defects come before inherited
    ones. Incremental: a run re-triages the lines with rows in a new load
    batch and those to which their order's or product's fate now gives
    another reason (see incremental_scope). -#}
{{ config(
    materialized='incremental',
    unique_key='source_row_number',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}

{#- The reason this model gives a line (null: none), from the line's
    quantity and unit_price and the CTEs order_fates and kept_products
    joined to it. The one place of these checks: `checked` applies it to
    the lines in scope; an incremental run applies it to the lines already
    triaged, to re-triage those whose reason it would change. A staging
    reason (missing_required_field, invalid_number, a zero quantity or an
    unreadable price) comes first and never changes. -#}
{%- set line_reason -%}
    case
        when
            quantity < 0 and not coalesce(order_fates.is_credit_note, false)
            then 'invalid_quantity'
        when order_fates.order_id is null then 'unknown_order'
        when kept_products.product_id is null then 'unknown_product'
        when
            unit_price
            > {{ var('max_price_to_list_ratio') }} * kept_products.list_price
            then 'invalid_price'
        when not order_fates.has_kept_row then 'parent_quarantined'
    end
{%- endset %}

{#- Whether a line's own numbers are invalid, which staging flags
    (stg_shop__order_lines): its reason is staging's and never changes, so
    an incremental run need not recheck it. Typed values only: a line whose
    discount was unreadable (stored as 0) looks valid here and is rechecked
    needlessly, with the same result. -#}
{%- set own_defect -%}
    coalesce(quantity, 0) = 0
    or unit_price is null
    or unit_price <= 0
    or line_discount < 0
    or line_discount > abs(quantity) * unit_price
{%- endset %}

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
        "(previous.dq_reason is null or previous.dq_reason in ("
        ~ "'duplicate', 'invalid_quantity', 'unknown_order', "
        ~ "'unknown_product', 'invalid_price', 'parent_quarantined')) "
        ~ "and not coalesce(" ~ own_defect ~ ", false) and ("
        ~ line_reason ~ ") is distinct from (case when previous.dq_reason "
        ~ "<> 'duplicate' then previous.dq_reason end)",
        raw_table='order_lines',
        recheck_joins="left join order_fates on previous.order_id = "
        ~ "order_fates.order_id left join kept_products on "
        ~ "previous.product_id = kept_products.product_id"
    ) }}

),

checked as (

    select
        scoped.* exclude (dq_reason),
        coalesce(scoped.dq_reason, {{ line_reason }}) as dq_reason
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

select
    *,
    {{ run_timestamp() }} as triaged_at
from triaged
