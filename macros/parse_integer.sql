{#- Integer text (' 7', '+3', '-2', '2.0') to integer. Anything else gives
    null instead of a guess: DuckDB's own cast would round '2.5' to 3 and
    read '0x10', '1e3' and '1_000' as numbers. -#}
{% macro parse_integer(column) -%}
    case
        when regexp_full_match(trim({{ column }}), '[+-]?[0-9]+(\.0*)?')
            then try_cast(
                regexp_replace(trim({{ column }}), '\.0*$', '') as integer
            )
    end
{%- endmacro %}
