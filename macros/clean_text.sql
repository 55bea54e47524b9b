{#- Trimmed text, with empty strings and common null words turned into null.
    Trimming removes every kind of white space at either end (tabs, line
    breaks, no-break spaces), not only spaces: a key written 'C1\t' is C1. -#}
{% macro clean_text(column) -%}
    {%- set trimmed -%}
        regexp_replace({{ column }}, '^[\s\p{Z}]+|[\s\p{Z}]+$', '', 'g')
    {%- endset -%}
    case
        when lower({{ trimmed }}) in ('', 'null', 'none', 'n/a', 'na', 'nan')
            then null
        else {{ trimmed }}
    end
{%- endmacro %}
