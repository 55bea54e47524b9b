{#- Free text with personal data masked: emails become [email], phone
    numbers [phone] (patterns: pii_patterns.sql), and each of `names` (SQL
    expressions holding the record's own first name, last name...) becomes
    [name] where it stands as a whole word, in any case (names of one
    letter are left alone). ISO dates are kept: their dashes are swapped
    for chr(31) while phones are masked. So that a chr(31) or chr(30) of
    the text itself comes back unchanged, both are escaped first (chr(30)
    'a' and chr(30) 'b', which break a digit run as they did). phones=false
    masks emails only (for keys, where a long digit run is an order or
    account number). Null stays null. -#}
{% macro mask_pii(column, names=[], phones=true) -%}
    {%- set text = namespace(sql='') -%}
    {%- set text.sql -%}
        regexp_replace(
            {{ column }}, '{{ pii_email_pattern() }}', '[email]', 'g'
        )
    {%- endset -%}
    {%- if phones -%}
        {%- set text.sql -%}
            replace(replace(replace(
                regexp_replace(
                    regexp_replace(
                        replace(replace(
                            {{ text.sql }},
                            chr(30), chr(30) || 'b'), chr(31), chr(30) || 'a'
                        ),
                        '{{ pii_iso_date_pattern() }}',
                        '\1' || chr(31) || '\2' || chr(31) || '\3', 'g'
                    ),
                    '{{ pii_phone_pattern() }}', '[phone]', 'g'
                ),
                chr(31), '-'), chr(30) || 'a', chr(31)), chr(30) || 'b', chr(30)
            )
        {%- endset -%}
    {%- endif -%}
    {%- for name in names -%}
        {%- set text.sql -%}
            case
                when length({{ name }}) >= 2
                    then regexp_replace(
                        {{ text.sql }},
                        '(^|[^\p{L}\p{N}])'
                        || regexp_replace(
                            {{ name }}, '([\\.^$|?*+()\[\]{}-])', '\\\1', 'g'
                        )
                        || '($|[^\p{L}\p{N}])',
                        '\1[name]\2', 'gi'
                    )
                else {{ text.sql }}
            end
        {%- endset -%}
    {%- endfor -%}
    {{ text.sql }}
{%- endmacro %}
