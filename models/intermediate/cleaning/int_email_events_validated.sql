{#- Every raw email event row with its fate (unknown contacts are
    quarantined as unknown_customer). -#}
with

events as (

    select * from {{ ref('stg_email__events') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'crm'

),

checked as (

    select
        events.* exclude (dq_reason),
        coalesce(
            events.dq_reason,
            case
                when valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from events
    left join valid_keys
        on events.contact_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows('checked', ['event_id'], 'source_row_number desc') }}

)

select * from triaged
