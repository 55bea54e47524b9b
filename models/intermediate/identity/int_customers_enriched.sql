{#- One row per resolved customer known on as_of_date (every person found
    in any system, buyers or not), with profile and order history as of
    that date (from the per-customer base, int_customer_order_summary). -#}
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

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
        coalesce(order_summary.count_orders, 0) as count_orders,
        coalesce(order_summary.count_completed_orders, 0)
            as count_completed_orders,
        coalesce(order_summary.count_cancelled_orders, 0)
            as count_cancelled_orders,
        coalesce(order_summary.count_returned_orders, 0)
            as count_returned_orders,
        coalesce(order_summary.count_unconfirmed_orders, 0)
            as count_unconfirmed_orders,
        cast(
            coalesce(order_summary.lifetime_gross_revenue, 0)
            as {{ money_type() }}
        ) as lifetime_gross_revenue,
        cast(
            coalesce(order_summary.lifetime_net_revenue, 0)
            as {{ money_type() }}
        ) as lifetime_net_revenue,
        order_summary.days_since_last_purchase,
        profiles.is_in_crm,
        profiles.is_in_shop,
        profiles.is_in_transactions,
        profiles.has_marketing_consent,
        coalesce(order_summary.count_completed_orders, 0) > 0 as is_buyer,
        profiles.birth_date,
        order_summary.first_order_date,
        order_summary.last_order_date,
        order_summary.first_purchase_date,
        order_summary.last_purchase_date,
        as_of.as_of_date,
        profiles.signed_up_at
    from profiles
    cross join as_of
    left join order_summary
        on profiles.customer_id = order_summary.customer_id
    {#- Customers who appear only after as_of_date did not exist yet. #}
    where
        least(
            cast(profiles.signed_up_at as date),
            order_summary.first_order_date
        ) <= as_of.as_of_date
        or (
            profiles.signed_up_at is null
            and order_summary.first_order_date is null
        )

)

select * from final
