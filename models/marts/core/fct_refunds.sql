{#- One row per refund made on or before as_of_date, in any of its three
    forms, with the order it nets against (see int_order_refunds for how a
    refund is matched to its order). A refund that matched no order nets
    against a row of its own in fct_orders (status credit_note, order_id =
    refund_id). -#}
with

refunds as (

    select * from {{ ref('int_order_refunds') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        refunds.refund_id,
        coalesce(refunds.order_id, refunds.refund_id) as order_id,
        refunds.customer_id,
        refunds.named_order_id,
        refunds.refund_source,
        refunds.match_method,
        refunds.refund_amount,
        refunds.refund_date,
        refunds.refunded_at
    from refunds
    inner join as_of
        on refunds.refund_date <= as_of.as_of_date

)

select * from final
