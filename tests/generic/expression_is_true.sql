{#- Fails for every row where `expression` is not true (identities such as
    net = gross - discounts). Narrow the rows with the `where` config. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
