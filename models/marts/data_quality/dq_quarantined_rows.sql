{#- One row per quarantined raw row, from every raw table, with its reason
    and the file row it came from. -#}
{%- set tables = [
    ('crm_contacts', 'int_crm_contacts_validated', 'contact_id'),
    ('shop_accounts', 'int_shop_accounts_validated', 'account_id'),
    ('orders', 'int_orders_validated', 'order_id'),
    ('order_lines', 'int_order_lines_validated',
        "order_id || '-' || coalesce(cast(line_number as varchar), '?')"),
    ('products', 'int_products_validated', 'product_id'),
    ('tickets', 'int_tickets_validated', 'ticket_id'),
    ('survey_responses', 'int_survey_responses_validated', 'response_id'),
    ('web_events', 'int_web_events_validated', 'event_id'),
    ('email_events', 'int_email_events_validated', 'event_id'),
    ('transactions', 'int_transactions_validated', 'customer_source_id'),
] -%}
with

{% for table_name, model, key in tables %}
    {{ table_name }} as (

        select
            '{{ table_name }}' as source_table,
            cast({{ key }} as varchar) as record_key,
            dq_reason,
            source_row_number
        from {{ ref(model) }}
        where row_status = 'quarantined'

    ),

{% endfor %}
all_quarantined as (

    {% for table_name, model, key in tables %}
        select * from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        source_table || ':' || source_row_number as quarantined_row_id,
        *
    from all_quarantined

)

select * from final
