{#- Timestamps later than this are `future_timestamp` defects: the moment
    of the build, in UTC. -#}
{% macro max_valid_timestamp() -%}
    cast(now() at time zone 'UTC' as timestamp)
{%- endmacro %}
