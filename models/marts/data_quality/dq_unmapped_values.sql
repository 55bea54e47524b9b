{#- One row per raw table x column x value that no reference data maps,
    how many rows carry it and the key of one of them. An unknown country
    becomes a null country_code on a kept row; an unknown order status
    quarantines the order (invalid_status). Either way the value is listed
    here, with emails and phones in it masked (mask_pii). Add a check by adding a CTE of the same shape to the union. -#}
with

records as (

    select * from {{ ref('int_customer_records_standardised') }}

),

orders as (

    select * from {{ ref('int_orders_validated') }}

),

unmapped_countries as (

    select
        case records.source_system
            when 'crm' then 'crm_contacts'
            when 'shop' then 'shop_accounts'
        end as source_table,
        'country' as column_name,
        {{ mask_pii('records.country_text') }} as raw_value,
        'country_aliases' as reference_seed,
        count(*) as count_rows,
        min({{ mask_pii('records.source_customer_id', phones=false) }})
            as example_record_key
    from records
    where
        records.country_text is not null
        and records.country_code is null
    group by 1, 2, 3, 4

),

unmapped_order_statuses as (

    select
        'orders' as source_table,
        'status' as column_name,
        {{ mask_pii('orders.source_status') }} as raw_value,
        'order_status_map' as reference_seed,
        count(*) as count_rows,
        min({{ mask_pii('orders.order_id', phones=false) }})
            as example_record_key
    from orders
    where orders.dq_reason = 'invalid_status'
    group by 1, 2, 3, 4

),

all_unmapped as (

    select * from unmapped_countries
    union all
    select * from unmapped_order_statuses

),

final as (

    select
        source_table || ':' || column_name || ':' || raw_value
            as unmapped_value_id,
        *
    from all_unmapped

)

select * from final
