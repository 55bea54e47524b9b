{#- One row per kept support ticket opened on or before as_of_date, with
    its resolved customer and its state as of that date. The one
    place this logic lives: fct_support_tickets publishes it. -#}
with

tickets as (

    select * from {{ ref('int_tickets_validated') }}
    where row_status = 'kept'

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}
    where source_system = 'crm'

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

as_of_tickets as (

    select
        tickets.ticket_id,
        identity_map.customer_id,
        tickets.channel,
        tickets.category,
        tickets.priority,
        case
            when tickets.resolved_at < as_of.as_of_date + interval 1 day
                then tickets.csat_score
        end as csat_score,
        case
            when tickets.resolved_at < as_of.as_of_date + interval 1 day
                then tickets.resolved_at
        end as resolved_at,
        tickets.opened_at
    from tickets
    inner join identity_map
        on tickets.contact_id = identity_map.source_customer_id
    inner join as_of
        on cast(tickets.opened_at as date) <= as_of.as_of_date

),

final as (

    select
        ticket_id,
        customer_id,
        channel,
        category,
        priority,
        csat_score,
        round(date_diff('second', opened_at, resolved_at) / 3600, 2)
            as hours_to_resolution,
        resolved_at is not null as is_resolved,
        coalesce(
            date_diff('second', opened_at, resolved_at)
            <= {{ var('ticket_resolution_target_hours') }} * 3600,
            false
        ) as is_resolved_within_target,
        cast(opened_at as date) as opened_date,
        opened_at,
        resolved_at
    from as_of_tickets

)

select * from final
