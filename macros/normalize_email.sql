{#- Lower-cased email, trimmed of white space of any kind (tabs, line
    breaks, no-break spaces, as clean_text trims); null unless it looks like
    local@domain.tld and is not a known placeholder. -#}
{% macro normalize_email(column) -%}
    {%- set trimmed -%}
        lower(regexp_replace({{ column }}, '^[\s\p{Z}]+|[\s\p{Z}]+$', '', 'g'))
    {%- endset -%}
    case
        when regexp_full_match(
            {{ trimmed }},
            '[a-z0-9._%+''-]+@[a-z0-9.-]+\.[a-z]{2,}'
        )
        and {{ trimmed }} not in (
            'test@test.com', 'noemail@example.com', 'none@none.com',
            'no@email.com', 'test@example.com'
        )
            then {{ trimmed }}
    end
{%- endmacro %}
