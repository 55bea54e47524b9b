{#- The feature snapshots aggregate orders at several cutoffs, so they
    cannot read the per-customer base (int_customer_order_summary, as of
    as_of_date only). Their `current` snapshot is the base's cutoff: every
    purchase figure they share must be equal, so the two never drift. -#}
with

features as (

    select * from {{ ref('int_customer_features_current') }}

),

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}
    where count_completed_orders > 0

)

select coalesce(features.customer_id, order_summary.customer_id) as customer_id
from features
full outer join order_summary
    on features.customer_id = order_summary.customer_id
where
    features.customer_id is null
    or order_summary.customer_id is null
    or features.count_purchase_days <> order_summary.count_purchase_days
    or features.count_completed_orders
    <> order_summary.count_completed_orders
    or features.first_purchase_date <> order_summary.first_purchase_date
    or features.last_purchase_date <> order_summary.last_purchase_date
    or features.days_since_last_purchase
    <> order_summary.days_since_last_purchase
    or features.lifetime_net_revenue <> order_summary.completed_net_revenue
