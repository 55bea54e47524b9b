{#- The `as_of_date` variable as a SQL date literal, or `null::date` when it
    is empty (then int_as_of_date falls back to the latest order date).
    Stops with the message of setting_problem when the value is not a
    YYYY-MM-DD date. -#}
{% macro as_of_date_literal() -%}
    {%- set value = var('as_of_date') | string | trim -%}
    {#- At parse time the value is not checked: in dbt build and run the
        on-run-start hook (load_raw_check_settings) rejects a bad one first,
        with a message about the setting rather than a compilation error. -#}
    {%- if value in ('', 'none', 'None', 'null') or not execute -%}
        null::date
    {%- else -%}
        {%- set problem = setting_problem('as_of_date', value) -%}
        {%- if problem -%}
            {{ exceptions.raise_compiler_error(problem) }}
        {%- endif -%}
        date '{{ value }}'
    {%- endif -%}
{%- endmacro %}
