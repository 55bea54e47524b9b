{#- Days in one RFM time unit: var rfm_time_unit is 'day' (1) or 'week' (7).
    recency and T are day differences divided by this, like lifetimes'
    freq_multiplier. -#}
{% macro rfm_time_unit_days() -%}
    {%- set unit = var('rfm_time_unit') | string | trim | lower -%}
    {%- set problem = setting_problem('rfm_time_unit', unit) -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- endif -%}
    {{ {'day': 1, 'week': 7}[unit] }}
{%- endmacro %}
