{#- dbt's safe_cast compiles to a plain cast on DuckDB, which fails the whole
    query on one bad value. try_cast returns null instead. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
