{#- What a stored ML fit depends on besides its age, as two digests (the
    refit schedule, crm_analytics.ml.schedule, compares them with those
    stored beside the fit), read by the view int_model_fit_context. -#}


{#- raw._run_settings: one row, this invocation's settings digest and
    model_refit_days. Written by the on-run-start hook of every dbt build
    and run, whatever it selects, so that a fit model run alone with other
    --vars sees them (a model's own SQL would keep those of the run that
    last built it). -#}
{% macro record_run_settings() %}
    {%- do run_query(
        "create or replace table " ~ run_settings_relation()
        ~ " as select " ~ fit_settings_digest() ~ " as settings_digest, cast("
        ~ var('model_refit_days') ~ " as integer) as model_refit_days"
    ) -%}
{% endmacro %}


{% macro run_settings_relation() -%}
    {{- return(api.Relation.create(
        database=target.database, schema='raw', identifier='_run_settings'
    )) -}}
{%- endmacro %}

{#- The dbt variables a fit may depend on, as an MD5 of `name=value;`
    pairs (declared in settings_declared, in its order): every variable but
    as_of_date (the schedule compares dates itself) and model_refit_days
    (the schedule). A changed variable makes the next run refit. -#}
{% macro fit_settings_digest() -%}
    {%- set pairs = [] -%}
    {%- for name, declared in settings_declared().items() -%}
        {%- if not declared.get('env')
            and name not in ('as_of_date', 'model_refit_days') -%}
            {%- do pairs.append(name ~ '=' ~ (var(name) | string | trim)) -%}
        {%- endif -%}
    {%- endfor -%}
    '{{ local_md5(pairs | join(';')) }}'
{%- endmacro %}


{#- The raw load's history, as an MD5 of the first file of every loaded
    table with the time it was loaded (raw._loaded_files, written by
    crm_analytics.ingest). A new daily batch leaves it alone; a table
    reloaded in full (a loaded file changed or went away, another raw
    directory, --full-refresh of the load) or loaded for the first time
    changes it, and the next run refits. -#}
{% macro raw_history_digest() -%}
    {%- set manifest = api.Relation.create(
        database=target.database, schema='raw', identifier='_loaded_files'
    ) -%}
    (
        select
            md5(
                coalesce(
                    string_agg(
                        table_name || ':' || file || ':'
                        || cast(loaded_at as varchar),
                        '|' order by table_name, file
                    ),
                    ''
                )
            )
        from {{ manifest }}
        where first_row_number = 1
    )
{%- endmacro %}
