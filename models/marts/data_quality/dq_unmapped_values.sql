{#- One row per raw table x column x value that no reference data maps:
    the text as written (trimmed), how many kept rows carry it and the key
    of one of them. Such values become null downstream (country_code), so
    they are listed here instead of disappearing. Add a check by adding a
    CTE of the same shape to the union. -#}
with

records as (

    select * from {{ ref('int_customer_records_standardised') }}

),

unmapped_countries as (

    select
        case records.source_system
            when 'crm' then 'crm_contacts'
            when 'shop' then 'shop_accounts'
        end as source_table,
        'country' as column_name,
        records.country_text as raw_value,
        'country_aliases' as reference_seed,
        count(*) as count_rows,
        min(records.source_customer_id) as example_record_key
    from records
    where
        records.country_text is not null
        and records.country_code is null
    group by 1, 2, 3, 4

),

all_unmapped as (

    select * from unmapped_countries

),

final as (

    select
        source_table || ':' || column_name || ':' || raw_value
            as unmapped_value_id,
        *
    from all_unmapped

)

select * from final
