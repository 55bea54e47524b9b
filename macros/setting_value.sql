{#- The value of setting `name` (crm_analytics.settings): a dbt variable's
    var(), or an environment variable's value, its declared default when it
    is unset (settings_declared). -#}
{% macro setting_value(name) %}
    {%- set setting = settings_declared()[name] -%}
    {%- if setting['env'] -%}
        {{- return(env_var(name, setting['default'] or '')) -}}
    {%- endif -%}
    {{- return(var(name)) -}}
{% endmacro %}
