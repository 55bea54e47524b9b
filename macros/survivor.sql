{#- The surviving value of an attribute across a customer's source records:
    the first non-null value in `order_by` order (source priority, then the
    most recently updated record). -#}
{% macro survivor(column, order_by='source_priority, updated_at desc nulls last, record_key') -%}
    first({{ column }} order by {{ order_by }}) filter (
        where {{ column }} is not null
    )
{%- endmacro %}
