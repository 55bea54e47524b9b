{#- One row per month with survey responses up to as_of_date: the company
    NPS (% promoters - % detractors) of that month's responses. -#}
with

responses as (

    select * from {{ ref('fct_survey_responses') }}
    where nps_score is not null

),

monthly as (

    select
        cast(date_trunc('month', responded_date) as date) as response_month,
        count(*) as count_responses,
        count(*) filter (where nps_class = 'promoter') as count_promoters,
        count(*) filter (where nps_class = 'passive') as count_passives,
        count(*) filter (where nps_class = 'detractor') as count_detractors
    from responses
    group by 1

),

final as (

    select
        response_month,
        count_responses,
        count_promoters,
        count_passives,
        count_detractors,
        round(100.0 * count_promoters / count_responses, 2) as pct_promoters,
        round(100.0 * count_detractors / count_responses, 2)
            as pct_detractors,
        round(
            100.0 * (count_promoters - count_detractors) / count_responses, 2
        ) as nps
    from monthly

)

select * from final
