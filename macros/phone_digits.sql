{#- A phone number reduced to its digits, with a leading `+` kept and an
    international `00` prefix turned into `+`. Country-aware E.164
    normalisation (trunk prefix, calling code) happens in intermediate, where
    the country reference seed is joined. -#}
{% macro phone_digits(column) -%}
    nullif(
        case
            when regexp_matches(trim({{ column }}), '^(\+|00)') then '+'
            else ''
        end
        || regexp_replace(
            regexp_replace(trim({{ column }}), '^00', ''), '[^0-9]', '', 'g'
        ),
        ''
    )
{%- endmacro %}
