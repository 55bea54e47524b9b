{#- One row per customer x day with engagement: web sessions started and
    emails opened or clicked (kept events of known customers). -#}
with

web_events as (

    select * from {{ ref('int_web_events_validated') }}
    where row_status = 'kept' and event_type = 'session_start'

),

email_events as (

    select * from {{ ref('int_email_events_validated') }}
    where row_status = 'kept' and event_type in ('opened', 'clicked')

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}

),

events as (

    select
        identity_map.customer_id,
        cast(web_events.occurred_at as date) as event_date,
        'web' as engagement_channel
    from web_events
    inner join identity_map
        on
            identity_map.source_system = 'shop'
            and web_events.account_id = identity_map.source_customer_id

    union all

    select
        identity_map.customer_id,
        cast(email_events.occurred_at as date) as event_date,
        'email' as engagement_channel
    from email_events
    inner join identity_map
        on
            identity_map.source_system = 'crm'
            and email_events.contact_id = identity_map.source_customer_id

),

final as (

    select
        customer_id,
        event_date,
        count(*) as count_engagements
    from events
    group by 1, 2

)

select * from final
