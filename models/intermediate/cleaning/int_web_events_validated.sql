{#- Every raw web event row with its fate. Anonymous events (no account) are
    kept; events of an account that is not a valid shop account are
    quarantined as unknown_customer. -#}
with

events as (

    select * from {{ ref('stg_web__events') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'shop'

),

checked as (

    select
        events.* exclude (dq_reason),
        coalesce(
            events.dq_reason,
            case
                when
                    events.account_id is not null
                    and valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from events
    left join valid_keys
        on events.account_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows('checked', ['event_id'], 'source_row_number desc') }}

)

select * from triaged
