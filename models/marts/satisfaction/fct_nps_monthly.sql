{#- One row per month with survey responses up to as_of_date: the company
    NPS (% promoters - % detractors) of that month's responses, from the
    response counts of fct_customer_months. -#}
with

customer_months as (

    select * from {{ ref('fct_customer_months') }}
    where count_nps_responses > 0

),

monthly as (

    select
        kpi_month as response_month,
        sum(count_nps_responses) as count_responses,
        sum(count_promoters) as count_promoters,
        sum(count_passives) as count_passives,
        sum(count_detractors) as count_detractors
    from customer_months
    group by 1

),

final as (

    select
        response_month,
        cast(count_responses as bigint) as count_responses,
        cast(count_promoters as bigint) as count_promoters,
        cast(count_passives as bigint) as count_passives,
        cast(count_detractors as bigint) as count_detractors,
        round(100.0 * count_promoters / count_responses, 2) as pct_promoters,
        round(100.0 * count_detractors / count_responses, 2)
            as pct_detractors,
        {{ nps_score(
            'count_promoters', 'count_detractors', 'count_responses'
        ) }} as nps
    from monthly

)

select * from final
