{#- The one list of raw tables and their triage models, for the
    data-quality marts and the reconciliation test. Each item: the source
    name, the raw table, the triage model and the SQL of the row's key;
    optionally 'detail', the column saying more than dq_reason, and
    'incremental' (the model is incremental and stamps each row with the
    run that triaged it, triaged_at). -#}
{% macro triaged_raw_tables() %}
    {{ return([
        {'source': 'crm', 'table': 'crm_contacts',
         'model': 'int_crm_contacts_validated', 'key': 'contact_id'},
        {'source': 'shop', 'table': 'shop_accounts',
         'model': 'int_shop_accounts_validated', 'key': 'account_id'},
        {'source': 'shop', 'table': 'orders',
         'model': 'int_orders_validated', 'incremental': true, 'key': 'order_id',
         'detail': 'dq_detail'},
        {'source': 'shop', 'table': 'order_lines',
         'model': 'int_order_lines_validated', 'incremental': true,
         'key': "order_id || '-' || coalesce(cast(line_number as varchar), '?')"},
        {'source': 'shop', 'table': 'products',
         'model': 'int_products_validated', 'key': 'product_id'},
        {'source': 'shop', 'table': 'order_reviews',
         'model': 'int_order_reviews_validated', 'key': 'review_id'},
        {'source': 'helpdesk', 'table': 'tickets',
         'model': 'int_tickets_validated', 'key': 'ticket_id'},
        {'source': 'survey', 'table': 'survey_responses',
         'model': 'int_survey_responses_validated', 'key': 'response_id'},
        {'source': 'web', 'table': 'web_events',
         'model': 'int_web_events_validated', 'incremental': true, 'key': 'event_id'},
        {'source': 'email', 'table': 'email_events',
         'model': 'int_email_events_validated', 'incremental': true, 'key': 'event_id'},
        {'source': 'transactions', 'table': 'transactions',
         'model': 'int_transactions_validated', 'key': 'customer_source_id'},
    ]) }}
{% endmacro %}
