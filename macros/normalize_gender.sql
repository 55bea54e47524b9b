{#- Free-text gender to female / male / other / null (unknown). -#}
{% macro normalize_gender(column) -%}
    case
        when lower(trim({{ column }})) in ('f', 'female', 'w', 'woman')
            then 'female'
        when lower(trim({{ column }})) in ('m', 'male', 'man')
            then 'male'
        when lower(trim({{ column }})) in ('x', 'o', 'other', 'diverse', 'nonbinary', 'non-binary')
            then 'other'
    end
{%- endmacro %}
