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
    {%- if names -%}
        {#- One pattern of the record's names (those of 2+ letters, regex
            characters escaped), run only on the rows holding one of them
            (the pattern is built per row; most rows hold none), and twice:
            a name right after another lost its leading boundary to the
            first match. -#}
        {%- set any_name = [] -%}
        {%- for name in names -%}
            {%- do any_name.append(
                "(length(" ~ name ~ ") >= 2 and contains(lower(" ~ text.sql
                ~ "), lower(" ~ name ~ ")))"
            ) -%}
        {%- endfor -%}
        {%- set pattern -%}
            '(^|[^\p{L}\p{N}])('
            || array_to_string(
                list_transform(
                    list_filter([{{ names | join(', ') }}], n -> length(n) >= 2),
                    n -> regexp_replace(n, '([\\.^$|?*+()\[\]{}-])', '\\\1', 'g')
                ),
                '|'
            )
            || ')($|[^\p{L}\p{N}])'
        {%- endset -%}
        {%- set text.sql -%}
            case
                when {{ any_name | join(' or ') }}
                    then regexp_replace(
                        regexp_replace(
                            {{ text.sql }}, {{ pattern }}, '\1[name]\3', 'gi'
                        ),
                        {{ pattern }}, '\1[name]\3', 'gi'
                    )
                else {{ text.sql }}
            end
        {%- endset -%}
    {%- endif -%}
    {{ text.sql }}
{%- endmacro %}
