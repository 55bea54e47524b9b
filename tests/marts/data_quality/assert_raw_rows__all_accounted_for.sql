{#- Every raw row, per raw table, appears exactly once in its triage model
    with a fate: the raw row numbers and the triaged row numbers are the
    same set. Independent of dq_row_reconciliation. -#}
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
{% for source_name, table_name, model in tables %}
select
    '{{ table_name }}' as source_table,
    coalesce(raw_rows._row_number, triaged.source_row_number) as row_number,
    raw_rows._row_number is null as is_extra_in_triage,
    triaged.source_row_number is null as is_missing_from_triage,
    coalesce(triaged.count_fates, 0) as count_fates
from {{ source(source_name, table_name) }} as raw_rows
full outer join (
    select
        source_row_number,
        count(*) as count_fates
    from {{ ref(model) }}
    where row_status in ('kept', 'merged', 'quarantined')
    group by 1
) as triaged
    on raw_rows._row_number = triaged.source_row_number
where
    raw_rows._row_number is null
    or triaged.source_row_number is null
    or triaged.count_fates <> 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
