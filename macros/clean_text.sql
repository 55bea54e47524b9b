{#- Trimmed text, with empty strings and common null words turned into null. -#}
{% macro clean_text(column) -%}
    case
        when lower(trim({{ column }})) in ('', 'null', 'none', 'n/a', 'na', 'nan')
            then null
        else trim({{ column }})
    end
{%- endmacro %}
