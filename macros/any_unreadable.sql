{#- True when any of `columns` holds a value (not empty, not a null word;
    `NaN` counts as a value here: it is a number that is not a number, not
    an empty cell) that `parse` (a parsing macro such as parse_money or parse_integer)
    cannot read: the row has a value it would otherwise silently lose. -#}
{% macro any_unreadable(columns, parse) -%}
    (
        {%- for column in columns %}
        {% if not loop.first %}or {% endif -%}
        (({{ clean_text(column) }} is not null
            or lower(trim({{ column }})) = 'nan')
            and {{ parse(column) }} is null)
        {%- endfor %}
    )
{%- endmacro %}
