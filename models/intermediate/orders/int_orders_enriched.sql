{#- One row per kept sale of any system, with its resolved customer and its
    money after refunds, plus one row per refund that matched no sale (a
    credit note for a purchase before the data starts, say).
    refunded_amount = the refunds matched to the sale (int_order_refunds
    holds those made on or before as_of_date); a completed sale refunded in full becomes returned.
    net_revenue = gross_revenue - refunded_amount for a completed sale;
    for a returned one 0, or below 0 by what the refunds exceed it; 0 for a
    cancelled or pending one; minus the refund for an unmatched refund; so
    that every refund is counted exactly once. is_completed: completed, and for shop
    orders at least one kept line (a header whose every line was
    quarantined is no evidence of a purchase). Cut at as_of_date: an order
    placed later did not exist yet. The customer's order sequence
    (customer_order_number, is_repeat_order) is counted over these.

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

documents as (

    select * from {{ ref('int_order_documents') }}
    where {{ of_changed_customers() }}

),

refunds as (

    select * from {{ ref('int_order_refunds') }}
    where {{ of_changed_customers() }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

refunds_per_sale as (

    select
        order_id,
        sum(refund_amount) as refunded_amount
    from refunds
    where order_id is not null
    group by 1

),

sale_documents as (

    select
        * exclude (
            is_credit_note, recorded_refund_amount, recorded_refunded_at,
            source_customer_id, product_costs_digest, built_at
        )
    from documents
    where not is_credit_note

),

sales as (

    select
        sale_documents.*,
        coalesce(refunds_per_sale.refunded_amount, 0) as refunded_amount
    from sale_documents
    left join refunds_per_sale
        on sale_documents.order_id = refunds_per_sale.order_id

),

sales_netted as (

    select
        order_id,
        order_row_number,
        customer_id,
        source_system,
        case
            when
                order_status = 'completed'
                and refunded_amount > 0
                and refunded_amount >= gross_revenue
                then 'returned'
            else order_status
        end as order_status,
        channel,
        count_lines,
        sum_quantity,
        lines_amount,
        line_discount_amount,
        order_discount_amount,
        shipping_amount,
        gross_revenue,
        refunded_amount,
        case
            when order_status = 'completed'
                then gross_revenue - refunded_amount
            when order_status = 'returned'
                then least(gross_revenue - refunded_amount, 0)
            else 0
        end as net_revenue,
        cost_of_goods,
        ordered_at
    from sales

),

unmatched_refunds as (

    select
        refund_id as order_id,
        cast(null as bigint) as order_row_number,
        customer_id,
        case
            when refund_source = 'negative_transaction' then 'transactions'
            else 'shop'
        end as source_system,
        'credit_note' as order_status,
        null as channel,
        0 as count_lines,
        0 as sum_quantity,
        0 as lines_amount,
        0 as line_discount_amount,
        0 as order_discount_amount,
        0 as shipping_amount,
        0 as gross_revenue,
        refund_amount as refunded_amount,
        -refund_amount as net_revenue,
        cast(null as {{ money_type() }}) as cost_of_goods,
        refunded_at as ordered_at
    from refunds
    where order_id is null

),

all_orders as (

    select * from sales_netted
    union all
    select * from unmatched_refunds

),

typed as (

    select
        order_id,
        order_row_number,
        customer_id,
        source_system,
        order_status,
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
        cast(refunded_amount as {{ money_type() }}) as refunded_amount,
        cast(net_revenue as {{ money_type() }}) as net_revenue,
        cast(cost_of_goods as {{ money_type() }}) as cost_of_goods,
        order_status = 'completed'
        and (source_system <> 'shop' or count_lines > 0) as is_completed,
        cast(ordered_at as date) as order_date,
        ordered_at
    from all_orders

),

as_of_orders as (

    select
        typed.*,
        as_of.as_of_date as built_as_of_date
    from typed
    inner join as_of
        on typed.order_date <= as_of.as_of_date

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
    from as_of_orders

),

final as (

    select
        * exclude (count_prior_completed_orders, built_as_of_date),
        order_status = 'cancelled' as is_cancelled,
        order_status = 'returned' as is_returned,
        count_prior_completed_orders > 0 as is_repeat_order,
        built_as_of_date,
        {{ run_timestamp() }} as built_at
    from sequenced

)

select * from final
