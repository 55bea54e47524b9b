{#- When this run started, as a timestamp literal: the same value in every
    model of one dbt invocation. The incremental cleaning models stamp the
    rows they (re)triage with it (`triaged_at`), and a model incremental by
    customer its rows (`built_at`), so that a later model can tell which
    rows changed since it last read them. This assumes the machine's clock
    does not go back between runs: a run stamped earlier than the model's
    latest built_at would be missed (`--full-refresh` rebuilds). -#}
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


{#- Two CTEs of a change rule (the pre_hook of a model incremental by
    customer that stores built_at and built_as_of_date): `stored`, the
    model's latest built_at and the as_of_date of that run; `dates`, that
    date and the current as_of_date in order (after_date, until_date): a
    date between them, after the first and up to the second, is one
    as_of_date moved across. -#}
{% macro latest_build_ctes() %}
    stored as (

        select
            max(built_at) as built_at,
            arg_max(built_as_of_date, built_at) as as_of_date
        from {{ this }}

    ),

    dates as (

        select
            least(stored.as_of_date, as_of.as_of_date) as after_date,
            greatest(stored.as_of_date, as_of.as_of_date) as until_date
        from stored
        cross join {{ ref('int_as_of_date') }} as as_of

    ),
{%- endmacro %}


{#- pre_hook of a model downstream of int_order_documents that is
    incremental by customer (int_order_refunds, int_orders_enriched,
    int_order_items_enriched: each customer's rows depend only on the
    customer's documents, order lines and transactions, the product costs
    and as_of_date) on an incremental run. Creates the temp table
    `<model>__changed`, one row per customer whose rows may differ from the
    stored ones:
      - the customers of the documents built after the model's latest
        built_at (int_order_documents rebuilds all of a customer's
        documents together, and all of them when the costs change);
      - the customers stored but no longer in the documents;
      - when as_of_date moved since the model's latest built_at, the
        customers with a document or a recorded refund dated between the
        two dates;
      - every customer with a row in the transactions file (its refunds
        have no document).
    The model stores the as_of_date it was built for in built_as_of_date
    (the rows of its latest run say which). -#}
{% macro order_chain_changed_customers() %}
    create or replace temp table {{ this.identifier }}__changed as
    with

    {{ latest_build_ctes() }}

    documents as (

        select * from {{ ref('int_order_documents') }}

    ),

    vanished as (

        select customer_id from {{ this }}
        except
        select customer_id from documents

    )

    select customer_id
    from documents
    where built_at > (select built_at from stored)
    union
    select customer_id from vanished
    union
    select documents.customer_id
    from documents
    cross join dates
    where
        (
            cast(documents.ordered_at as date) > dates.after_date
            and cast(documents.ordered_at as date) <= dates.until_date
        )
        or (
            cast(documents.recorded_refunded_at as date) > dates.after_date
            and cast(documents.recorded_refunded_at as date) <= dates.until_date
        )
    union
    select identity_map.customer_id
    from {{ ref('int_transactions_validated') }} as transactions
    inner join {{ ref('int_customer_identity_map') }} as identity_map
        on
            identity_map.source_system = 'transactions'
            and transactions.customer_source_id
            = identity_map.source_customer_id
    where transactions.row_status = 'kept'
{% endmacro %}


{#- The pre_hooks of a model incremental by customer whose changed
    customers `changed_customers` (a macro name, or a call with arguments)
    finds: on an incremental
    run, the temp table `<model>__changed`, then the deletion of those
    customers' rows, which the run then inserts again. -#}
{% macro by_customer_pre_hooks(changed_customers) %}
    {%- set call = changed_customers if '(' in changed_customers
        else changed_customers ~ '()' -%}
    {{ return([
        "{% if is_incremental() %}{{ " ~ call ~ " }}{% endif %}",
        "{% if is_incremental() %}delete from {{ this }} where customer_id in "
        ~ "(select customer_id from {{ this.identifier }}__changed){% endif %}",
    ]) }}
{% endmacro %}


{#- The filter of a model incremental by customer on its inputs: on an
    incremental run, customer_id is one of the customers of the temp table
    `<model>__changed` (which by_customer_pre_hooks makes); else true. -#}
{% macro of_changed_customers() -%}
    {%- if is_incremental() -%}
        customer_id in (select customer_id from {{ this.identifier }}__changed)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- pre_hook of a model that publishes or aggregates models incremental
    by customer (`models`, a model name or a list of them: fct_orders
    publishes int_orders_enriched, int_customer_order_history aggregates
    it). Creates the temp table `<this model>__changed` of the customers
    changed_customers_of finds. Sound when this one's rows of a customer
    depend only on those models' rows of that customer (and on inputs it
    rebuilds in full for, rebuild_in_full_when), and its built_at is never
    earlier than the built_at of the rows it read (a copy of theirs, or its
    own run's). -#}
{% macro published_changed_customers(models) %}
    create or replace temp table {{ this.identifier }}__changed as
    {{ changed_customers_of(models) }}
{% endmacro %}


{#- A select of the customers of each of `models` (a model name or a list
    of them, each incremental by customer) whose rows were built after this
    model's latest built_at, and of the customers this model holds that
    none of them has any more. Not "that one of them no longer has": a
    customer never in one of them (a buyer without a refund) would be
    rebuilt in every run. A customer gone from one model but not from all
    is found by the first rule, as long as the models rebuild a customer
    together: the order models all rebuild the customers whose documents
    int_order_documents rebuilt (or that a moved as_of_date crossed), so
    the others hold rows of that customer built since. -#}
{% macro changed_customers_of(models) %}
    {%- set models = [models] if models is string else models %}
    {% for model in models -%}
    select customer_id
    from {{ ref(model) }}
    where built_at > (select max(built_at) from {{ this }})
    union
    {% endfor -%}
    (
        select customer_id from {{ this }}
        {% for model in models -%}
        except
        select customer_id from {{ ref(model) }}
        {% endfor %}
    )
{% endmacro %}


{#- pre_hook of int_customer_product_purchases on an incremental run.
    Creates the temp table int_customer_product_purchases__changed, one row
    per customer whose rows may differ from the stored ones: the customers
    of the order lines, orders or refunds rebuilt since the model's latest
    built_at, or gone from them (changed_customers_of; those models rebuild
    a customer whose lines, orders or refunds changed, and those whose
    documents a moved as_of_date crosses); and, when as_of_date moved, the
    customers with a line or a credit note dated between a split's start
    before and now (the holdout start, as_of_date - var
    recommendation_holdout_days, and the validation start, twice that
    before as_of_date). -#}
{% macro product_purchases_changed_customers() %}
    {%- set holdout_days = var('recommendation_holdout_days') %}
    create or replace temp table {{ this.identifier }}__changed as
    with

    {{ latest_build_ctes() }}

    split_moves as (

        select
            dates.after_date - {{ holdout_days }} as after_holdout,
            dates.until_date - {{ holdout_days }} as until_holdout,
            dates.after_date - 2 * {{ holdout_days }} as after_validation,
            dates.until_date - 2 * {{ holdout_days }} as until_validation
        from dates

    )

    {{ changed_customers_of([
        'int_order_items_enriched', 'int_orders_enriched', 'int_order_refunds'
    ]) }}
    union
    select order_items.customer_id
    from {{ ref('int_order_items_enriched') }} as order_items
    cross join split_moves
    where
        (
            order_items.order_date > split_moves.after_holdout
            and order_items.order_date <= split_moves.until_holdout
        )
        or (
            order_items.order_date > split_moves.after_validation
            and order_items.order_date <= split_moves.until_validation
        )
    union
    select refunds.customer_id
    from {{ ref('int_order_refunds') }} as refunds
    cross join split_moves
    where
        refunds.refund_source = 'credit_note'
        and (
            (
                refunds.refund_date > split_moves.after_holdout
                and refunds.refund_date <= split_moves.until_holdout
            )
            or (
                refunds.refund_date > split_moves.after_validation
                and refunds.refund_date <= split_moves.until_validation
            )
        )
{% endmacro %}


{#- A check of rebuild_in_full_when: `digest` (a scalar subquery, the md5
    of inputs that every customer's rows share) differs from the one the
    stored rows were built with (the model's column `column`, the same in
    every row). `why` names the inputs in the log. -#}
{% macro digest_changed(digest, column, why) %}
    {{ return({
        'query': 'select ' ~ digest ~ ' is distinct from (select any_value('
            ~ column ~ ') from ' ~ this ~ ')',
        'why': why,
    }) }}
{% endmacro %}


{#- The NPS responses and support tickets of each customer x month, as one
    select (customer_id, kpi_month, count_nps_responses, count_promoters,
    count_passives, count_detractors, count_tickets_opened; zeros, never
    null): int_customer_months' satisfaction columns, and what
    customer_months_changed_customers compares with the stored ones. -#}
{% macro customer_satisfaction_months() %}
    select * from (
        select
            coalesce(responses.customer_id, tickets.customer_id) as customer_id,
            coalesce(responses.kpi_month, tickets.kpi_month) as kpi_month,
            coalesce(responses.count_nps_responses, 0) as count_nps_responses,
            coalesce(responses.count_promoters, 0) as count_promoters,
            coalesce(responses.count_passives, 0) as count_passives,
            coalesce(responses.count_detractors, 0) as count_detractors,
            coalesce(tickets.count_tickets_opened, 0) as count_tickets_opened
        from (
            select
                customer_id,
                cast(date_trunc('month', responded_date) as date) as kpi_month,
                count(*) as count_nps_responses,
                count(*) filter (where nps_class = 'promoter') as count_promoters,
                count(*) filter (where nps_class = 'passive') as count_passives,
                count(*) filter (where nps_class = 'detractor')
                    as count_detractors
            from {{ ref('int_survey_responses_enriched') }}
            where nps_score is not null
            group by 1, 2
        ) as responses
        full outer join (
            select
                customer_id,
                cast(date_trunc('month', opened_date) as date) as kpi_month,
                count(*) as count_tickets_opened
            from {{ ref('int_tickets_enriched') }}
            group by 1, 2
        ) as tickets
            on
                responses.customer_id = tickets.customer_id
                and responses.kpi_month = tickets.kpi_month
    ) as satisfaction_months
{% endmacro %}


{#- pre_hook of int_customer_months on an incremental run. Creates the temp
    table int_customer_months__changed, one row per customer whose rows may
    differ from the stored ones:
      - the customers of int_orders_enriched's rows built after the
        model's latest built_at (it rebuilds all of a customer's rows
        together, every customer whose orders or refunds as_of_date moved
        across, and the customers int_order_refunds rebuilt, whose refunds
        it reads; the per-customer history follows it);
      - the customers stored with order rows that int_orders_enriched no
        longer has (an identity change, say);
      - the customers whose NPS responses or tickets by month differ from
        the stored ones (those models are rebuilt in every run: compared,
        not stamped);
      - when as_of_date moved since the latest run, the customers with a
        purchase day whose churn event (the day + churn_inactivity_days)
        falls between the two dates. -#}
{% macro customer_months_changed_customers() %}
    create or replace temp table {{ this.identifier }}__changed as
    with

    {{ latest_build_ctes() }}

    orders as (

        select * from {{ ref('int_orders_enriched') }}

    ),

    satisfaction_now as (

        {{ customer_satisfaction_months() }}

    ),

    satisfaction_stored as (

        select
            customer_id,
            kpi_month,
            count_nps_responses,
            count_promoters,
            count_passives,
            count_detractors,
            count_tickets_opened
        from {{ this }}
        where count_nps_responses > 0 or count_tickets_opened > 0

    ),

    satisfaction_changed as (

        (select * from satisfaction_now except select * from satisfaction_stored)
        union all
        (select * from satisfaction_stored except select * from satisfaction_now)

    )

    select customer_id
    from orders
    where built_at > (select built_at from stored)
    union
    (
        select customer_id from {{ this }}
        where count_order_rows > 0
        except
        select customer_id from orders
    )
    union
    select customer_id from satisfaction_changed
    union
    select orders.customer_id
    from orders
    cross join dates
    where
        orders.is_completed
        and orders.order_date + {{ var('churn_inactivity_days') }}
        > dates.after_date
        and orders.order_date + {{ var('churn_inactivity_days') }}
        <= dates.until_date
{% endmacro %}
