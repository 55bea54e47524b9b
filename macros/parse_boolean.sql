{#- yes/no, y/n, true/false, t/f, 1/0 in any case to boolean; else null. -#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('yes', 'y', 'true', 't', '1')
            then true
        when lower(trim({{ column }})) in ('no', 'n', 'false', 'f', '0')
            then false
    end
{%- endmacro %}
