{#- The row checks of a model whose contract the database does not enforce
    (an intermediate table, a Python model, a seed), as one test over one
    scan instead of a test per check. It reads the constraints the model's
    YAML declares, in the vocabulary and with the meaning of the contracted
    marts: `not_null`, and `check` (column or model level), which a row
    fails when its expression is false, as in SQL: a null passes, so a
    check that must hold writes coalesce(..., false). Fails for every row
    that breaks one, with `failed_checks` naming each it breaks. A model
    with an enforced contract already has its checks done by DuckDB as it
    writes; declaring the test there is an error. -#}
{% test row_checks(model) %}

{%- set checks = [] -%}
{%- set node = model_node(model) -%}
{%- if execute -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error(
            "row_checks: no model or seed is built as " ~ model) }}
    {%- endif -%}
    {%- if (node.config.get('contract') or {}).get('enforced') -%}
        {{ exceptions.raise_compiler_error(
            "row_checks on " ~ node.name ~ ": its contract is enforced, so "
            ~ "DuckDB checks its constraints already; remove the test") }}
    {%- endif -%}
    {%- for column in node.columns.values() -%}
        {%- for constraint in column.constraints -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do checks.append((
                    column.name ~ ' is not null',
                    adapter.quote(column.name) ~ ' is not null')) -%}
            {%- elif constraint.type == 'check' -%}
                {%- do checks.append((
                    column.name ~ ': ' ~ constraint.expression,
                    'coalesce((' ~ constraint.expression ~ '), true)')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in node.constraints or [] -%}
        {%- if constraint.type == 'not_null' -%}
            {%- for name in constraint.columns -%}
                {%- do checks.append((
                    name ~ ' is not null',
                    adapter.quote(name) ~ ' is not null')) -%}
            {%- endfor -%}
        {%- elif constraint.type == 'check' -%}
            {%- do checks.append((
                constraint.expression,
                'coalesce((' ~ constraint.expression ~ '), true)')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "row_checks on " ~ node.name ~ ": it declares no not_null or "
            ~ "check constraint to test") }}
    {%- endif -%}
{%- endif %}

select
    *,
    list_filter([
        {%- for label, passes in checks %}
        case when not {{ passes }} then '{{ label | replace("'", "''") }}' end
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ], failed -> failed is not null) as failed_checks
from {{ model }}
where not (
    {%- for label, passes in checks %}
    {{ 'and ' if not loop.first }}{{ passes }}
    {%- endfor %}
)

{% endtest %}
