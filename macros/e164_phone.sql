{#- E.164 candidate from `phone_digits` output and the record's country:
    '+...' stays; a national number loses its trunk prefix (0 in most of
    Europe) and gains the calling code; NANP numbers written with a leading
    1 get the '+'. Callers keep it only if it matches '\+[1-9][0-9]{7,14}'. -#}
{% macro e164_phone(digits, calling_code, trunk_prefix) -%}
    case
        when {{ digits }} like '+%' then {{ digits }}
        when {{ calling_code }} = '1'
            and length({{ digits }}) = 11
            and {{ digits }} like '1%'
            then '+' || {{ digits }}
        when {{ trunk_prefix }} is not null
            and {{ digits }} like {{ trunk_prefix }} || '%'
            then '+' || {{ calling_code }}
            || substr({{ digits }}, length({{ trunk_prefix }}) + 1)
        when {{ calling_code }} is not null
            then '+' || {{ calling_code }} || {{ digits }}
    end
{%- endmacro %}
