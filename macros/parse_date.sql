{#- A date column, read with the same formats as parse_timestamp. -#}
{% macro parse_date(column) -%}
    cast({{ parse_timestamp(column) }} as date)
{%- endmacro %}
