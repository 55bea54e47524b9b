{#- The graph node (a dict) of the model or seed that `relation` names,
    matched by schema and alias; none before execution or when none
    matches. -#}
{% macro model_node(relation) %}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type in ('model', 'seed')
                and node.alias == relation.identifier
                and node.schema == relation.schema -%}
                {{ return(node) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
