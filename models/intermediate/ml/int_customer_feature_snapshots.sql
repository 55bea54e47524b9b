{#- Behaviour features of every buyer at several cutoff dates, and what they
    did in the horizon after each cutoff: one row per snapshot x customer
    with a completed order on or before the cutoff.

    Snapshots (int_snapshot_cutoffs): `current` (cutoff as_of_date, no
    horizon), and for each propensity model a training and a test snapshot
    whose horizons end at as_of_date - horizon and at as_of_date: the model
    learns on the first and is judged on the second, a period it never saw.

    A view: each reader computes only the snapshots it filters on (DuckDB
    pushes the filter on snapshot_name down to the cutoffs). The current
    snapshot, which every run reads, is the table
    int_customer_features_current; the labelled ones are computed only on
    the runs that refit the propensity models. -#}
{{ config(materialized='view') }}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

order_items as (

    select * from {{ ref('int_order_items_enriched') }}

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

tickets as (

    select * from {{ ref('int_tickets_enriched') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_enriched') }}

),

engagement_days as (

    select * from {{ ref('int_customer_engagement_days') }}

),

snapshots as (

    select * from {{ ref('int_snapshot_cutoffs') }}

),

category_medians as (

    -- a line's price level is its unit price over its category's median
    -- list price, so that a cheap book and a cheap laptop compare
    select
        category,
        median(list_price) as median_list_price
    from products
    group by 1

),

order_price_levels as (

    select
        order_items.order_id,
        avg(
            order_items.unit_price
            / nullif(category_medians.median_list_price, 0)
        ) as avg_price_index,
        avg(order_items.quantity) as avg_units_per_line
    from order_items
    inner join products
        on order_items.product_id = products.product_id
    inner join category_medians
        on products.category = category_medians.category
    group by 1

),

order_facts as (

    -- every order (any status) with its burst count: the customer's orders
    -- placed in the three days up to and including it
    select
        orders.customer_id,
        orders.order_id,
        orders.order_date,
        orders.net_revenue,
        orders.count_lines,
        order_price_levels.avg_price_index,
        order_price_levels.avg_units_per_line,
        orders.is_completed,
        orders.order_status = 'returned' as is_returned,
        orders.order_discount_amount > 0
        or orders.line_discount_amount > 0 as is_discounted,
        count(*) over (
            partition by orders.customer_id
            order by orders.order_date
            range between interval 2 day preceding and current row
        ) as count_orders_in_3_days
    from orders
    left join order_price_levels
        on orders.order_id = order_price_levels.order_id

),

snapshot_orders as (

    select
        snapshots.snapshot_name,
        snapshots.cutoff_date,
        order_facts.*,
        snapshots.cutoff_date - order_facts.order_date as days_before_cutoff
    from snapshots
    inner join order_facts
        on snapshots.cutoff_date >= order_facts.order_date

),

order_features as (

    select
        snapshot_name,
        customer_id,
        min(order_date) filter (where is_completed) as first_purchase_date,
        max(order_date) filter (where is_completed) as last_purchase_date,
        count(distinct order_date) filter (where is_completed)
            as count_purchase_days,
        count(*) filter (where is_completed) as count_completed_orders,
        count(*) filter (where is_completed and days_before_cutoff < 30)
            as count_orders_30d,
        count(*) filter (where is_completed and days_before_cutoff < 90)
            as count_orders_90d,
        count(*) filter (where is_completed and days_before_cutoff < 365)
            as count_orders_365d,
        coalesce(sum(net_revenue) filter (where is_completed), 0)
            as lifetime_net_revenue,
        coalesce(
            sum(net_revenue) filter (
                where is_completed and days_before_cutoff < 365
            ),
            0
        ) as net_revenue_365d,
        avg(net_revenue) filter (where is_completed) as avg_order_value,
        avg(count_lines) filter (where is_completed) as avg_lines_per_order,
        -- averages of averages are rounded: parallel summation may differ
        -- in the last bit between builds, and the models must not
        round(avg(avg_units_per_line) filter (where is_completed), 9)
            as avg_units_per_line,
        round(avg(avg_price_index) filter (where is_completed), 9)
            as avg_price_index,
        avg(case when is_discounted then 1.0 else 0.0 end)
        filter (where is_completed) as pct_orders_discounted,
        count(*) as count_orders,
        count(*) filter (where is_returned) as count_returned_orders,
        max(count_orders_in_3_days) as max_orders_in_3_days
    from snapshot_orders
    group by 1, 2

),

ticket_features as (

    select
        snapshots.snapshot_name,
        tickets.customer_id,
        count(*) filter (
            where snapshots.cutoff_date - tickets.opened_date < 365
        ) as count_tickets_365d,
        count(*) filter (
            where
            tickets.resolved_at is null
            or cast(tickets.resolved_at as date) > snapshots.cutoff_date
        ) as count_unresolved_tickets,
        avg(tickets.csat_score) as avg_csat_score
    from snapshots
    inner join tickets
        on snapshots.cutoff_date >= tickets.opened_date
    where tickets.customer_id is not null
    group by 1, 2

),

survey_features as (

    select
        snapshots.snapshot_name,
        survey_responses.customer_id,
        avg(survey_responses.nps_score) as avg_nps_score
    from snapshots
    inner join survey_responses
        on snapshots.cutoff_date >= survey_responses.responded_date
    where survey_responses.customer_id is not null
    group by 1, 2

),

engagement_features as (

    select
        snapshots.snapshot_name,
        engagement_days.customer_id,
        count(*) as count_engagement_days_90d
    from snapshots
    inner join engagement_days
        on
            snapshots.cutoff_date >= engagement_days.event_date
            and engagement_days.event_date > snapshots.cutoff_date - 90
    group by 1, 2

),

horizon_outcomes as (

    select
        snapshots.snapshot_name,
        order_facts.customer_id,
        count(distinct order_facts.order_date) as count_horizon_purchase_days
    from snapshots
    inner join order_facts
        on
            snapshots.cutoff_date < order_facts.order_date
            and order_facts.order_date
            <= snapshots.cutoff_date + snapshots.horizon_days
    where order_facts.is_completed
    group by 1, 2

),

final as (

    select
        order_features.snapshot_name,
        order_features.customer_id,
        order_features.snapshot_name || ':' || order_features.customer_id
            as customer_snapshot_id,
        snapshots.cutoff_date - order_features.last_purchase_date
            as days_since_last_purchase,
        snapshots.cutoff_date - order_features.first_purchase_date
            as days_since_first_purchase,
        order_features.count_purchase_days,
        order_features.count_purchase_days * 365.25 / (
            snapshots.cutoff_date - order_features.first_purchase_date + 1
        ) as purchase_days_per_year,
        order_features.count_completed_orders,
        order_features.count_orders_30d,
        order_features.count_orders_90d,
        order_features.count_orders_365d,
        order_features.lifetime_net_revenue,
        order_features.net_revenue_365d,
        order_features.avg_order_value,
        order_features.avg_lines_per_order,
        order_features.avg_units_per_line,
        order_features.avg_price_index,
        order_features.pct_orders_discounted,
        order_features.count_orders,
        order_features.count_returned_orders,
        order_features.count_returned_orders
        / order_features.count_orders as pct_orders_returned,
        order_features.max_orders_in_3_days,
        coalesce(ticket_features.count_tickets_365d, 0) as count_tickets_365d,
        coalesce(ticket_features.count_unresolved_tickets, 0)
            as count_unresolved_tickets,
        ticket_features.avg_csat_score,
        survey_features.avg_nps_score,
        coalesce(engagement_features.count_engagement_days_90d, 0)
            as count_engagement_days_90d,
        snapshots.horizon_days,
        case
            when snapshots.horizon_days is not null
                then coalesce(horizon_outcomes.count_horizon_purchase_days, 0)
        end as count_horizon_purchase_days,
        snapshots.cutoff_date - order_features.last_purchase_date
        <= {{ var('churn_inactivity_days') }} as is_active,
        snapshots.cutoff_date,
        order_features.first_purchase_date,
        order_features.last_purchase_date
    from order_features
    inner join snapshots
        on order_features.snapshot_name = snapshots.snapshot_name
    left join ticket_features
        on
            order_features.snapshot_name = ticket_features.snapshot_name
            and order_features.customer_id = ticket_features.customer_id
    left join survey_features
        on
            order_features.snapshot_name = survey_features.snapshot_name
            and order_features.customer_id = survey_features.customer_id
    left join engagement_features
        on
            order_features.snapshot_name = engagement_features.snapshot_name
            and order_features.customer_id = engagement_features.customer_id
    left join horizon_outcomes
        on
            order_features.snapshot_name = horizon_outcomes.snapshot_name
            and order_features.customer_id = horizon_outcomes.customer_id
    where order_features.count_completed_orders > 0

)

select * from final
