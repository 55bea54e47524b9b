{#- Money as text ('$1,299.00', '€12.50', 'EUR 12.50', ' -12.5 ') to
    decimal(18, scale): 2 for amounts, 4 for unit prices and costs (0.001
    a unit is a real price). Currency symbols, a three-letter currency code before or
    after the number and spaces are dropped; what is left must be a plain
    decimal number, with commas only as thousands separators. Anything else
    gives null instead of a wrong number: '1e5', '1.234,56', '(5.00)',
    'NaN', 'inf', '12.5.3', an amount beyond decimal(18, scale), or more
    decimals than the scale ('10.999' as an amount is not 11.00; trailing
    zeros, '10.9900', are exact and read). -#}
{% macro parse_money(column, scale=2) -%}
    case
        when regexp_full_match(
            regexp_replace(
                trim({{ column }}),
                '^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$|[\p{Sc}\s]', '', 'g'
            ),
            '[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]{0,{{ scale }}}0*)?|[+-]?\.[0-9]{1,{{ scale }}}0*'
        )
            then try_cast(
                replace(
                    regexp_replace(
                        trim({{ column }}),
                        '^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$|[\p{Sc}\s]', '', 'g'
                    ),
                    ',', ''
                ) as decimal(18, {{ scale }})
            )
    end
{%- endmacro %}
