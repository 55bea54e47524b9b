{#- True when any of `columns` holds a value (not empty, not a null word)
    that `parse` (a parsing macro such as parse_money or parse_integer)
    cannot read: the row has a value it would otherwise silently lose. -#}
{% macro any_unreadable(columns, parse) -%}
    (
        {%- for column in columns %}
        {% if not loop.first %}or {% endif -%}
        ({{ clean_text(column) }} is not null and {{ parse(column) }} is null)
        {%- endfor %}
    )
{%- endmacro %}
