{#- A 1-5 score from the position of `order_by` (worst first) among all
    rows: 1 + floor(5 x percent_rank), capped at 5. Ties share one score,
    the one of the first position of their block, so equal customers never
    get different scores and the result does not depend on row order. -#}
{% macro quintile_score(order_by) -%}
    cast(
        least(
            5,
            1 + floor(5 * percent_rank() over (order by {{ order_by }}))
        ) as integer
    )
{%- endmacro %}
