{#- One row per kept support ticket opened on or before as_of_date, with
    its resolved customer and its state as of that date: the published face
    of int_tickets_enriched, which owns the logic. -#}
with

tickets_enriched as (

    select * from {{ ref('int_tickets_enriched') }}

),

final as (

    select
        ticket_id,
        customer_id,
        channel,
        category,
        priority,
        csat_score,
        hours_to_resolution,
        is_resolved,
        is_resolved_within_target,
        opened_date,
        opened_at,
        resolved_at
    from tickets_enriched

)

select * from final
