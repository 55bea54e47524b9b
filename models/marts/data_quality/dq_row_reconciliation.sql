{#- One row per raw table: rows read from the file, and how many were kept,
    merged into another row (duplicates) or quarantined. rows_in is counted
    from the raw table itself, independently of the triage. -#}
{%- set tables = [
    ('crm', 'crm_contacts', 'int_crm_contacts_validated'),
    ('shop', 'shop_accounts', 'int_shop_accounts_validated'),
    ('shop', 'orders', 'int_orders_validated'),
    ('shop', 'order_lines', 'int_order_lines_validated'),
    ('shop', 'products', 'int_products_validated'),
    ('helpdesk', 'tickets', 'int_tickets_validated'),
    ('survey', 'survey_responses', 'int_survey_responses_validated'),
    ('web', 'web_events', 'int_web_events_validated'),
    ('email', 'email_events', 'int_email_events_validated'),
    ('transactions', 'transactions', 'int_transactions_validated'),
] -%}
with

{% for source_name, table_name, model in tables %}
    {{ table_name }} as (

        select
            '{{ table_name }}' as source_table,
            (select count(*) from {{ source(source_name, table_name) }})
                as count_rows_in,
            count(*) filter (where row_status = 'kept') as count_kept,
            count(*) filter (where row_status = 'merged') as count_merged,
            count(*) filter (where row_status = 'quarantined')
                as count_quarantined
        from {{ ref(model) }}

    ),

{% endfor %}
all_tables as (

    {% for source_name, table_name, model in tables %}
        select * from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        *,
        count_rows_in
        = count_kept + count_merged + count_quarantined as is_reconciled
    from all_tables

)

select * from final
