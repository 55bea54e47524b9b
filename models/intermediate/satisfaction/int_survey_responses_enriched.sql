{#- One row per kept survey response given on or before as_of_date, with
    its resolved customer and NPS class. The one
    place this logic lives: fct_survey_responses publishes it. -#}
with

responses as (

    select * from {{ ref('int_survey_responses_validated') }}
    where row_status = 'kept'

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

contact_names as (

    {#- The names each contact_id was written with, to mask in its
        comments (a contact in several rows may carry more spellings). -#}
    select
        contacts.contact_id,
        min(contacts.first_name) as first_name_min,
        max(contacts.first_name) as first_name_max,
        min(contacts.last_name) as last_name_min,
        max(contacts.last_name) as last_name_max
    from contacts
    group by 1

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
        {{ mask_pii(
            'responses.response_comment',
            names=[
                'contact_names.first_name_min', 'contact_names.first_name_max',
                'contact_names.last_name_min', 'contact_names.last_name_max'
            ],
            phones=false
        ) }} as response_comment,
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
    left join contact_names
        on responses.contact_id = contact_names.contact_id
    inner join as_of
        on cast(responses.responded_at as date) <= as_of.as_of_date

)

select * from final
