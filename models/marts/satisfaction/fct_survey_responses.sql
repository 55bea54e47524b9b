{#- One row per kept survey response given on or before as_of_date, with
    its resolved customer and NPS class. -#}
with

responses as (

    select * from {{ ref('int_survey_responses_validated') }}
    where row_status = 'kept'

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}
    where source_system = 'crm'

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        responses.response_id,
        identity_map.customer_id,
        {{ nps_class('responses.nps_score') }} as nps_class,
        responses.response_comment,
        responses.nps_score,
        responses.sat_product,
        responses.sat_delivery,
        responses.sat_service,
        responses.sat_value,
        cast(responses.responded_at as date) as responded_date,
        responses.responded_at
    from responses
    inner join identity_map
        on responses.contact_id = identity_map.source_customer_id
    inner join as_of
        on cast(responses.responded_at as date) <= as_of.as_of_date

)

select * from final
