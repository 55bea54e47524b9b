{#- The net promoter score of counts: % promoters - % detractors of the
    responses (-100 to 100), 2 decimals; null without responses. -#}
{% macro nps_score(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then round(
                100.0 * ({{ promoters }} - {{ detractors }}) / {{ responses }},
                2
            )
    end
{%- endmacro %}
