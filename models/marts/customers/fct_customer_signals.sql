{#- One row per customer with at least one completed order up to
    as_of_date: rule-based behaviour flags, each with the reason in words. -#}
with

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}
    where count_completed_orders > 0

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_completed

),

engagement as (

    select * from {{ ref('int_customer_engagement_days') }}

),

tickets as (

    select * from {{ ref('fct_support_tickets') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

overdue as (

    select
        order_summary.customer_id,
        as_of.as_of_date - order_summary.last_purchase_date
            as days_since_last_purchase,
        order_summary.median_days_between_purchases,
        order_summary.count_purchase_days >= 2
        and as_of.as_of_date - order_summary.last_purchase_date
        > {{ var('signal_overdue_factor') }}
        * order_summary.median_days_between_purchases as is_overdue
    from order_summary
    cross join as_of

),

order_history as (

    select
        customer_id,
        net_revenue,
        row_number() over (
            partition by customer_id order by ordered_at desc, order_id desc
        ) as recency_rank
    from orders

),

spend_baseline as (

    select
        customer_id,
        max(net_revenue) filter (where recency_rank = 1) as latest_order_value,
        avg(net_revenue) filter (where recency_rank > 1) as avg_earlier_value,
        stddev_pop(net_revenue) filter (where recency_rank > 1)
            as stddev_earlier_value,
        count(*) filter (where recency_rank > 1) as count_earlier_orders
    from order_history
    group by 1

),

engagement_windows as (

    select
        engagement.customer_id,
        sum(engagement.count_engagements) filter (
            where engagement.event_date > as_of.as_of_date - 30
        ) as count_engagements_last_30d,
        sum(engagement.count_engagements) filter (
            where
            engagement.event_date <= as_of.as_of_date - 30
            and engagement.event_date > as_of.as_of_date - 210
        ) / 6.0 as avg_engagements_per_30d_before
    from engagement
    cross join as_of
    where engagement.event_date <= as_of.as_of_date
    group by 1

),

open_tickets as (

    select
        customer_id,
        count(*) filter (where not is_resolved) as count_open_tickets
    from tickets
    group by 1

),

flags as (

    select
        overdue.customer_id,
        overdue.days_since_last_purchase,
        overdue.median_days_between_purchases,
        spend_baseline.latest_order_value,
        spend_baseline.avg_earlier_value,
        spend_baseline.count_earlier_orders,
        coalesce(engagement_windows.count_engagements_last_30d, 0)
            as count_engagements_last_30d,
        engagement_windows.avg_engagements_per_30d_before,
        coalesce(open_tickets.count_open_tickets, 0) as count_open_tickets,
        overdue.is_overdue,
        coalesce(
            spend_baseline.count_earlier_orders >= 3
            and spend_baseline.latest_order_value
            > spend_baseline.avg_earlier_value
            + 3 * spend_baseline.stddev_earlier_value
            and spend_baseline.latest_order_value
            > 2 * spend_baseline.avg_earlier_value,
            false
        ) as has_spend_spike,
        coalesce(
            engagement_windows.avg_engagements_per_30d_before >= 2
            and coalesce(engagement_windows.count_engagements_last_30d, 0)
            < 0.25 * engagement_windows.avg_engagements_per_30d_before,
            false
        ) as has_engagement_drop,
        coalesce(open_tickets.count_open_tickets >= 2, false)
            as has_repeated_unresolved_tickets
    from overdue
    left join spend_baseline
        on overdue.customer_id = spend_baseline.customer_id
    left join engagement_windows
        on overdue.customer_id = engagement_windows.customer_id
    left join open_tickets
        on overdue.customer_id = open_tickets.customer_id

),

final as (

    select
        customer_id,
        case
            when is_overdue
                then
                    'no purchase for ' || days_since_last_purchase
                    || ' days, over {{ var("signal_overdue_factor") }} x their '
                    || 'median interval of '
                    || median_days_between_purchases || ' days'
        end as overdue_reason,
        case
            when has_spend_spike
                then
                    -- amounts with thousands separators, as in the
                    -- anomaly reasons: '231574.56' reads as a phone number
                    -- to the publish's personal-data scan, '231,574.56' not
                    'latest order ' || format('{:,.2f}', latest_order_value)
                    || ' vs their mean of '
                    || format('{:,.2f}', avg_earlier_value)
                    || ' over ' || count_earlier_orders || ' earlier orders'
        end as spend_spike_reason,
        case
            when has_engagement_drop
                then
                    count_engagements_last_30d
                    || ' sessions/email opens in the last 30 days vs '
                    || round(avg_engagements_per_30d_before, 1)
                    || ' per 30 days in the 6 months before'
        end as engagement_drop_reason,
        case
            when has_repeated_unresolved_tickets
                then count_open_tickets || ' unresolved tickets'
        end as unresolved_tickets_reason,
        days_since_last_purchase,
        count_open_tickets,
        is_overdue,
        has_spend_spike,
        has_engagement_drop,
        has_repeated_unresolved_tickets
    from flags

)

select * from final
