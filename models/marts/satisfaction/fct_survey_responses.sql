{#- One row per kept survey response given on or before as_of_date, with
    its resolved customer, NPS class and masked comment: the published face
    of int_survey_responses_enriched, which owns the logic. -#}
with

survey_responses_enriched as (

    select * from {{ ref('int_survey_responses_enriched') }}

),

final as (

    select
        response_id,
        customer_id,
        nps_class,
        response_comment,
        nps_score,
        sat_product,
        sat_delivery,
        sat_service,
        sat_value,
        responded_date,
        responded_at
    from survey_responses_enriched

)

select * from final
