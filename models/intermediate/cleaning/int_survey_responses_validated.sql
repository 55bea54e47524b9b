{#- Every raw survey response row with its fate (unknown contacts are
    quarantined as unknown_customer). -#}
with

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'crm'

),

checked as (

    select
        responses.* exclude (dq_reason),
        coalesce(
            responses.dq_reason,
            case
                when valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from responses
    left join valid_keys
        on responses.contact_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows('checked', ['response_id'], 'source_row_number desc') }}

)

select * from triaged
