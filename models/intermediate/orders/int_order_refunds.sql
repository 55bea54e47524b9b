{#- One row per refund found in any of its three real forms, matched to the
    sale it refunds:
      credit_note           a shop order document whose status maps to
                            credit_note (its value: the credited lines);
      order_refund          an order's own refunded_amount;
      negative_transaction  a transactions row with a negative amount.
    The sale is the one the refund names (original_order_id, the order
    itself, the transaction's order_id) when that is a sale of the same
    customer placed before the refund; else, for a credit note, the customer's latest sale on or
    before the refund that holds one of the credited products; else the
    customer's latest sale on or before the refund; else none (the refund
    stands alone). Sales that were cancelled or are pending are never
    matched. Cut at as_of_date: a refund made later has not happened yet
    (matching looks only at earlier sales, so the cut changes no match).

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

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept'
    {%- if is_incremental() %}
        and order_id in (select order_id from documents)
    {%- endif %}

),

transactions as (

    select * from {{ ref('int_transactions_validated') }}
    where row_status = 'kept' and amount < 0

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}
    where
        source_system = 'transactions'
        and {{ of_changed_customers() }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

sales as (

    select
        order_id,
        customer_id,
        ordered_at
    from documents
    where
        not is_credit_note
        and order_status not in ('cancelled', 'pending')

),

credit_notes as (

    select
        order_id as refund_id,
        customer_id,
        'credit_note' as refund_source,
        original_order_id as named_order_id,
        gross_revenue as refund_amount,
        ordered_at as refunded_at
    from documents
    where is_credit_note

),

order_refunds as (

    select
        order_id || ':refund' as refund_id,
        customer_id,
        'order_refund' as refund_source,
        order_id as named_order_id,
        recorded_refund_amount as refund_amount,
        {#- a refund cannot precede its order: an earlier refunded_at is
            read as the order's own time -#}
        
        greatest(coalesce(recorded_refunded_at, ordered_at), ordered_at)
            as refunded_at
    from documents
    where not is_credit_note and recorded_refund_amount > 0

),

negative_transactions as (

    select
        'T' || transactions.source_row_number || ':refund' as refund_id,
        identity_map.customer_id,
        'negative_transaction' as refund_source,
        transactions.order_id as named_order_id,
        -transactions.amount as refund_amount,
        transactions.transacted_at as refunded_at
    from transactions
    inner join identity_map
        on transactions.customer_source_id = identity_map.source_customer_id

),

all_refunds as (

    select * from credit_notes
    union all
    select * from order_refunds
    union all
    select * from negative_transactions

),

named_matches as (

    select
        all_refunds.refund_id,
        sales.order_id
    from all_refunds
    inner join sales
        on
            all_refunds.named_order_id = sales.order_id
            and all_refunds.customer_id = sales.customer_id
            and all_refunds.refunded_at >= sales.ordered_at

),

credited_products as (

    select distinct
        credit_notes.refund_id,
        credit_notes.customer_id,
        credit_notes.refunded_at,
        order_lines.product_id
    from credit_notes
    inner join order_lines
        on credit_notes.refund_id = order_lines.order_id

),

product_matches as (

    select
        credited_products.refund_id,
        arg_max(
            sales.order_id, (sales.ordered_at, sales.order_id)
        ) as order_id
    from credited_products
    inner join order_lines
        on credited_products.product_id = order_lines.product_id
    inner join sales
        on
            order_lines.order_id = sales.order_id
            and credited_products.customer_id = sales.customer_id
            and credited_products.refunded_at >= sales.ordered_at
    group by 1

),

latest_sale_matches as (

    select
        all_refunds.refund_id,
        arg_max(
            sales.order_id, (sales.ordered_at, sales.order_id)
        ) as order_id
    from all_refunds
    inner join sales
        on
            all_refunds.customer_id = sales.customer_id
            and all_refunds.refunded_at >= sales.ordered_at
    group by 1

),

final as (

    select
        all_refunds.refund_id,
        coalesce(
            named_matches.order_id,
            product_matches.order_id,
            latest_sale_matches.order_id
        ) as order_id,
        all_refunds.customer_id,
        all_refunds.refund_source,
        all_refunds.named_order_id,
        case
            when named_matches.order_id is not null then 'named_order'
            when product_matches.order_id is not null
                then 'latest_sale_with_product'
            when latest_sale_matches.order_id is not null
                then 'latest_sale'
            else 'unmatched'
        end as match_method,
        cast(all_refunds.refund_amount as {{ money_type() }}) as refund_amount,
        cast(all_refunds.refunded_at as date) as refund_date,
        all_refunds.refunded_at,
        as_of.as_of_date as built_as_of_date,
        {{ run_timestamp() }} as built_at
    from all_refunds
    left join named_matches
        on all_refunds.refund_id = named_matches.refund_id
    left join product_matches
        on all_refunds.refund_id = product_matches.refund_id
    left join latest_sale_matches
        on all_refunds.refund_id = latest_sale_matches.refund_id
    inner join as_of
        on cast(all_refunds.refunded_at as date) <= as_of.as_of_date

)

select * from final
