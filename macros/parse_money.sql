{#- Money as text ('$1,299.00', '€12.50', ' 12.5 ') to decimal(18, 2).
    Currency symbols, spaces and thousands separators are dropped; anything
    that is still not a number gives null. -#}
{% macro parse_money(column) -%}
    try_cast(
        nullif(regexp_replace(trim({{ column }}), '[^0-9.\-]', '', 'g'), '')
        as decimal(18, 2)
    )
{%- endmacro %}
