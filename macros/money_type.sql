{#- The type of computed money (sums, order totals, line amounts, lifetime
    values): decimal(38, scale). parse_money reads each raw amount into
    decimal(18, scale); 38 digits hold any sum of such amounts a warehouse
    can hold rows for, where 18 overflowed on two amounts of 9e15. -#}
{% macro money_type(scale=2) -%}
    decimal(38, {{ scale }})
{%- endmacro %}
