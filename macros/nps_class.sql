{#- NPS class of a 0-10 likelihood-to-recommend score: promoter (9-10),
    passive (7-8), detractor (0-6); null for null. -#}
{% macro nps_class(score) -%}
    case
        when {{ score }} >= 9 then 'promoter'
        when {{ score }} >= 7 then 'passive'
        when {{ score }} >= 0 then 'detractor'
    end
{%- endmacro %}
