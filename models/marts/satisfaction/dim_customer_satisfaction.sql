{#- One row per customer in dim_customers: survey, order review and
    support experience up to as_of_date, and the trend of the last 90 days
    against before. -#}
with

customers as (

    select * from {{ ref('int_customers_enriched') }}

),

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

tickets as (

    select * from {{ ref('fct_support_tickets') }}

),

reviews as (

    select * from {{ ref('fct_order_reviews') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

survey_summary as (

    select
        customer_id,
        count(*) as count_survey_responses,
        arg_max(nps_score, responded_at) as latest_nps_score,
        avg(nps_score) as avg_nps_score,
        avg(sat_product) as avg_sat_product,
        avg(sat_delivery) as avg_sat_delivery,
        avg(sat_service) as avg_sat_service,
        avg(sat_value) as avg_sat_value,
        max(responded_date) as latest_response_date
    from responses
    group by 1

),

review_summary as (

    select
        customer_id,
        count(*) as count_reviews,
        count(*) filter (where is_positive) as count_positive_reviews,
        count(*) filter (where is_negative) as count_negative_reviews,
        first(review_score order by reviewed_at desc, review_id desc)
            as latest_review_score,
        avg(review_score) as avg_review_score,
        max(reviewed_date) as latest_review_date
    from reviews
    group by 1

),

ticket_summary as (

    select
        customer_id,
        count(*) as count_tickets,
        count(*) filter (where not is_resolved) as count_open_tickets,
        median(hours_to_resolution) as median_hours_to_resolution,
        avg(case when is_resolved_within_target then 1 else 0 end)
            as pct_resolved_within_target,
        avg(csat_score) as avg_csat_score,
        arg_max(csat_score, resolved_at) filter (where csat_score is not null)
            as latest_csat_score
    from tickets
    group by 1

),

{#- Every touchpoint on one 0-1 scale: NPS / 10, (CSAT - 1) / 4. #}

touchpoints as (

    select
        responses.customer_id,
        responses.responded_date as touch_date,
        responses.nps_score / 10 as satisfaction
    from responses
    where responses.nps_score is not null

    union all

    select
        tickets.customer_id,
        cast(tickets.resolved_at as date) as touch_date,
        (tickets.csat_score - 1) / 4 as satisfaction
    from tickets
    where tickets.csat_score is not null

),

trend as (

    select
        touchpoints.customer_id,
        avg(touchpoints.satisfaction) filter (
            where touchpoints.touch_date > as_of.as_of_date - 90
        ) as avg_satisfaction_last_90d,
        avg(touchpoints.satisfaction) filter (
            where touchpoints.touch_date <= as_of.as_of_date - 90
        ) as avg_satisfaction_before_90d
    from touchpoints
    cross join as_of
    group by 1

),

final as (

    select
        customers.customer_id,
        {{ nps_class('survey_summary.latest_nps_score') }}
            as latest_nps_class,
        case
            when
                trend.avg_satisfaction_last_90d is null
                or trend.avg_satisfaction_before_90d is null
                then 'insufficient data'
            when
                trend.avg_satisfaction_last_90d
                - trend.avg_satisfaction_before_90d > 0.1
                then 'improving'
            when
                trend.avg_satisfaction_last_90d
                - trend.avg_satisfaction_before_90d < -0.1
                then 'declining'
            else 'stable'
        end as satisfaction_trend,
        coalesce(survey_summary.count_survey_responses, 0)
            as count_survey_responses,
        survey_summary.latest_nps_score,
        round(survey_summary.avg_nps_score, 2) as avg_nps_score,
        round(survey_summary.avg_sat_product, 2) as avg_sat_product,
        round(survey_summary.avg_sat_delivery, 2) as avg_sat_delivery,
        round(survey_summary.avg_sat_service, 2) as avg_sat_service,
        round(survey_summary.avg_sat_value, 2) as avg_sat_value,
        coalesce(review_summary.count_reviews, 0) as count_reviews,
        coalesce(review_summary.count_positive_reviews, 0)
            as count_positive_reviews,
        coalesce(review_summary.count_negative_reviews, 0)
            as count_negative_reviews,
        review_summary.latest_review_score,
        round(review_summary.avg_review_score, 2) as avg_review_score,
        round(
            review_summary.count_positive_reviews
            / review_summary.count_reviews,
            4
        ) as pct_positive_reviews,
        round(
            review_summary.count_negative_reviews
            / review_summary.count_reviews,
            4
        ) as pct_negative_reviews,
        coalesce(ticket_summary.count_tickets, 0) as count_tickets,
        coalesce(ticket_summary.count_open_tickets, 0) as count_open_tickets,
        round(ticket_summary.median_hours_to_resolution, 2)
            as median_hours_to_resolution,
        round(ticket_summary.pct_resolved_within_target, 4)
            as pct_resolved_within_target,
        ticket_summary.latest_csat_score,
        round(ticket_summary.avg_csat_score, 2) as avg_csat_score,
        round(trend.avg_satisfaction_last_90d, 4)
            as avg_satisfaction_last_90d,
        round(trend.avg_satisfaction_before_90d, 4)
            as avg_satisfaction_before_90d,
        survey_summary.latest_response_date,
        review_summary.latest_review_date
    from customers
    left join survey_summary
        on customers.customer_id = survey_summary.customer_id
    left join review_summary
        on customers.customer_id = review_summary.customer_id
    left join ticket_summary
        on customers.customer_id = ticket_summary.customer_id
    left join trend
        on customers.customer_id = trend.customer_id

)

select * from final
