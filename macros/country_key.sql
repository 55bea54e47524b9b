{#- The lookup key of a country text, as seeds/country_aliases.csv stores
    it: lower case, accents removed, every run of white space one space,
    trimmed ('  ESPAÑA ' -> 'espana'). crm_analytics.reference.alias_key
    computes the same key when it writes the seed. -#}
{% macro country_key(column) -%}
    trim(regexp_replace(
        strip_accents(lower({{ column }})), '[\s\p{Z}]+', ' ', 'g'
    ))
{%- endmacro %}
