{#- Every raw ticket row with its fate; tickets of contacts that are not
    valid CRM contacts are quarantined as unknown_customer. -#}
with

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'crm'

),

checked as (

    select
        tickets.* exclude (dq_reason),
        coalesce(
            tickets.dq_reason,
            case
                when valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from tickets
    left join valid_keys
        on tickets.contact_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['ticket_id'],
        'resolved_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
