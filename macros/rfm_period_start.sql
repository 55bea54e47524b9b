{#- The purchase period a date falls in, as its first day: var
    rfm_period_grain 'day' (the date) or 'week' (its ISO week's Monday, as
    lifetimes' freq='W'). Purchases in one period count as one. -#}
{% macro rfm_period_start(date_column) -%}
    {%- set grain = var('rfm_period_grain') | string | trim | lower -%}
    {%- set problem = setting_problem('rfm_period_grain', grain) -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- elif grain == 'day' -%}
        cast({{ date_column }} as date)
    {%- elif grain == 'week' -%}
        cast(date_trunc('week', {{ date_column }}) as date)
    {%- endif -%}
{%- endmacro %}
