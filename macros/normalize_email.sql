{#- Lower-cased, trimmed email; null unless it looks like local@domain.tld
    and is not a known placeholder. -#}
{% macro normalize_email(column) -%}
    case
        when regexp_full_match(
            lower(trim({{ column }})),
            '[a-z0-9._%+''-]+@[a-z0-9.-]+\.[a-z]{2,}'
        )
        and lower(trim({{ column }})) not in (
            'test@test.com', 'noemail@example.com', 'none@none.com',
            'no@email.com', 'test@example.com'
        )
            then lower(trim({{ column }}))
    end
{%- endmacro %}
