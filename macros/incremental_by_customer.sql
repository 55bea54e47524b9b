{#- When this run started, as a timestamp literal: the same value in every
    model of one dbt invocation. The incremental cleaning models stamp the
    rows they (re)triage with it (`triaged_at`), and a model incremental by
    customer its rows (`built_at`), so that a later model can tell which
    rows changed since it last read them. -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}


{#- Drops the current model, so that this run rebuilds it in full, when
    one of `checks` holds: each a dict of `query` (a select of one boolean,
    true when the stored rows can no longer be updated by customer) and
    `why` (logged). First, when the model lacks `required_column` (it was
    built by an earlier version of the project). Only in `dbt run`/`dbt
    build` on an existing model, not on a full refresh. -#}
{% macro rebuild_in_full_when(checks, required_column) %}
    {%- if not execute or flags.WHICH not in ('run', 'build')
        or model.resource_type != 'model' or should_full_refresh() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        this.database, this.schema, this.identifier
    ) -%}
    {%- if existing is none -%}{{ return('') }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(existing)
        | map(attribute='name') | list -%}
    {%- set why = [] -%}
    {%- if required_column not in columns -%}
        {%- do why.append('it has no column ' ~ required_column
            ~ ' (built by an earlier version)') -%}
    {%- else -%}
        {%- for check in checks -%}
            {%- if not why and run_query(check.query).columns[0].values()[0] -%}
                {%- do why.append(check.why) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if why -%}
        {{ log(this.identifier ~ ": " ~ why[0] ~ "; rebuilding it in full",
            info=true) }}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
{% endmacro %}


{#- pre_hook of int_order_documents on an incremental run: creates the temp
    table int_order_documents__changed, one row per customer whose
    documents may differ from the stored ones. Those are the customers,
    before and now, of every order with an order or line row (re)triaged
    after the model was last built (`built_at`; the cleaning models'
    `triaged_at`); the customers, before and now, of every stored document
    whose source customer now resolves to another customer (or to none);
    and every customer with a sale in the transactions file now (that
    file's model is rebuilt in every run, so it holds no `triaged_at`; a
    customer whose every transaction is gone no longer resolves, which the
    previous rule catches). -#}
{% macro order_documents_changed_customers() %}
    create or replace temp table int_order_documents__changed as
    with

    previous as (

        select * from {{ this }}

    ),

    identity_map as (

        select * from {{ ref('int_customer_identity_map') }}

    ),

    orders as (

        select * from {{ ref('int_orders_validated') }}

    ),

    changed_orders as (

        select order_id
        from orders
        where triaged_at > (select max(built_at) from previous)
        union
        select order_id
        from {{ ref('int_order_lines_validated') }}
        where triaged_at > (select max(built_at) from previous)

    ),

    resolved as (

        select
            previous.customer_id as customer_before,
            identity_map.customer_id as customer_now
        from previous
        left join identity_map
            on
                previous.source_system = identity_map.source_system
                and previous.source_customer_id
                = identity_map.source_customer_id
        where identity_map.customer_id is distinct from previous.customer_id

    )

    select previous.customer_id
    from previous
    inner join changed_orders
        on previous.order_id = changed_orders.order_id
    union
    select identity_map.customer_id
    from orders
    inner join changed_orders
        on orders.order_id = changed_orders.order_id
    inner join identity_map
        on
            identity_map.source_system = 'shop'
            and orders.account_id = identity_map.source_customer_id
    where orders.row_status = 'kept'
    union
    select customer_before from resolved
    union
    select customer_now from resolved where customer_now is not null
    union
    select identity_map.customer_id
    from {{ ref('int_transactions_validated') }} as transactions
    inner join identity_map
        on
            identity_map.source_system = 'transactions'
            and transactions.customer_source_id
            = identity_map.source_customer_id
    where transactions.row_status = 'kept'
{% endmacro %}
