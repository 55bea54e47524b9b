{#- The contract of a model dbt cannot enforce one on (a Python model):
    fails for every column whose name or DuckDB type differs from the
    `data_type` the model's YAML declares, and for every undeclared column.
    Types compare lower-cased without spaces (decimal(38,2)). -#}
{% test declared_column_types(model) %}

{%- set declared = [] -%}
{%- set node = model_node(model) -%}
{%- if node is not none -%}
    {%- for column in node.columns.values() -%}
        {%- do declared.append((column.name, column.data_type)) -%}
    {%- endfor -%}
{%- endif %}

with

declared as (

    {% for name, data_type in declared -%}
        select
            '{{ name }}' as column_name,
            '{{ data_type | lower | replace(" ", "") }}' as data_type
        {%- if not loop.last %} union all {% endif %}
    {% else -%}
        select null as column_name, null as data_type where false
    {%- endfor %}

),

actual as (

    select
        column_name,
        replace(lower(data_type), ' ', '') as data_type
    from duckdb_columns()
    where
        schema_name = '{{ model.schema }}'
        and table_name = '{{ model.identifier }}'

)

select
    coalesce(declared.column_name, actual.column_name) as column_name,
    declared.data_type as declared_type,
    actual.data_type as actual_type
from declared
full outer join actual
    on declared.column_name = actual.column_name
where declared.data_type is distinct from actual.data_type

{% endtest %}
