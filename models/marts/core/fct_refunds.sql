{#- One row per refund made on or before as_of_date, in any of its three
    forms, with the order it nets against: the published face of
    int_order_refunds (see there how a refund is matched to its order). A
    refund that matched no order nets against a row of its own in fct_orders
    (status credit_note, order_id = refund_id). -#}
with

refunds as (

    select * from {{ ref('int_order_refunds') }}

),

final as (

    select
        refund_id,
        coalesce(order_id, refund_id) as order_id,
        customer_id,
        named_order_id,
        refund_source,
        match_method,
        refund_amount,
        refund_date,
        refunded_at
    from refunds

)

select * from final
