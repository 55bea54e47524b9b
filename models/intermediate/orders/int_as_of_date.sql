{#- One row: the date every metric is computed as of. The `as_of_date`
    variable when set, else the latest kept order date (credit documents
    aside; else today). -#}
with

orders as (

    select * from {{ ref('int_order_documents') }}
    where not is_credit_note

),

as_of as (

    select
        coalesce(
            {{ as_of_date_literal() }},
            cast(max(ordered_at) as date),
            current_date
        ) as as_of_date
    from orders

)

select * from as_of
