{#- Age band on a date, from a birth date: 'under 18', '18-24', '25-34',
    '35-44', '45-54', '55-64', '65+', or null when the birth date is
    unknown or after the date. -#}
{% macro age_band(birth_date, on_date) -%}
    case
        when {{ birth_date }} is null or {{ birth_date }} > {{ on_date }}
            then null
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 18
            then 'under 18'
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 25
            then '18-24'
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 35
            then '25-34'
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 45
            then '35-44'
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 55
            then '45-54'
        when date_sub('year', {{ birth_date }}, {{ on_date }}) < 65
            then '55-64'
        else '65+'
    end
{%- endmacro %}
