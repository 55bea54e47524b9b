{#- One row per resolved customer known on as_of_date (every person found
    in any system, buyers or not), with profile and order history as of
    that date. -#}
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

order_history as (

    select
        customer_id,
        {#- a refund that matched no order is not an order -#}
        count(*) filter (where order_status <> 'credit_note') as count_orders,
        count(*) filter (where is_completed) as count_completed_orders,
        count(*) filter (where is_cancelled) as count_cancelled_orders,
        count(*) filter (where is_returned) as count_returned_orders,
        count(*) filter (
            where order_status in ('completed', 'pending') and not is_completed
        ) as count_unconfirmed_orders,
        sum(gross_revenue) as lifetime_gross_revenue,
        sum(net_revenue) as lifetime_net_revenue,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(order_date) filter (where is_completed)
            as first_purchase_date,
        max(order_date) filter (where is_completed)
            as last_purchase_date
    from orders
    group by 1

),

final as (

    select
        profiles.customer_id,
        profiles.first_name,
        profiles.last_name,
        profiles.full_name,
        profiles.email,
        profiles.phone,
        profiles.street_address,
        profiles.city,
        profiles.postal_code,
        profiles.country_code,
        profiles.gender,
        profiles.income_band,
        profiles.count_source_records,
        coalesce(order_history.count_orders, 0) as count_orders,
        coalesce(order_history.count_completed_orders, 0)
            as count_completed_orders,
        coalesce(order_history.count_cancelled_orders, 0)
            as count_cancelled_orders,
        coalesce(order_history.count_returned_orders, 0)
            as count_returned_orders,
        coalesce(order_history.count_unconfirmed_orders, 0)
            as count_unconfirmed_orders,
        cast(
            coalesce(order_history.lifetime_gross_revenue, 0)
            as {{ money_type() }}
        ) as lifetime_gross_revenue,
        cast(
            coalesce(order_history.lifetime_net_revenue, 0)
            as {{ money_type() }}
        ) as lifetime_net_revenue,
        as_of.as_of_date - order_history.last_purchase_date
            as days_since_last_purchase,
        profiles.is_in_crm,
        profiles.is_in_shop,
        profiles.is_in_transactions,
        profiles.has_marketing_consent,
        coalesce(order_history.count_completed_orders, 0) > 0 as is_buyer,
        profiles.birth_date,
        order_history.first_order_date,
        order_history.last_order_date,
        order_history.first_purchase_date,
        order_history.last_purchase_date,
        as_of.as_of_date,
        profiles.signed_up_at
    from profiles
    cross join as_of
    left join order_history
        on profiles.customer_id = order_history.customer_id
    {#- Customers who appear only after as_of_date did not exist yet. #}
    where
        least(
            cast(profiles.signed_up_at as date),
            order_history.first_order_date
        ) <= as_of.as_of_date
        or (
            profiles.signed_up_at is null
            and order_history.first_order_date is null
        )

)

select * from final
