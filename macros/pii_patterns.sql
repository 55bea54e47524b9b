{#- The one definition of what personal data looks like in text, used by
    mask_pii in the models and, through crm_analytics.pii (a test checks
    they are equal), by the publish step's scan. RE2 syntax (DuckDB's
    regexp functions); in these Jinja strings a backslash is written \\.
    An email: local part, @, a domain with a dot and a 2+ letter top level.
    A phone: 8 to 15 digits, optionally after a +, with at most two of
    ' ().-' between digits, standing alone (not inside a longer word or
    hex hash). ISO dates (2024-01-05) look like phones to that rule, so
    pii_iso_date_pattern marks what mask_pii and the scan leave alone. -#}
{% macro pii_email_pattern() -%}
    {{- '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}' -}}
{%- endmacro %}

{% macro pii_phone_pattern() -%}
    {{- '(\\+|\\b)[0-9]([ ().-]{0,2}[0-9]){7,14}\\b' -}}
{%- endmacro %}

{% macro pii_iso_date_pattern() -%}
    {{- '([0-9]{4})-([0-9]{2})-([0-9]{2})' -}}
{%- endmacro %}

{#- A key (an id column) that is a phone number: the whole value
    phone-shaped and written as people write phones, with a +, a space or a
    parenthesis. A bare digit run in a key is an order or account number. -#}
{% macro pii_key_phone_pattern() -%}
    {{- '^(\\+[0-9]|\\([0-9]|[0-9][0-9().-]*[ (])[0-9 ().-]*[0-9]$' -}}
{%- endmacro %}

{#- Whether the text of `column` (a key) is a phone number. -#}
{% macro looks_like_phone_key(column) -%}
    (
        regexp_matches({{ column }}, '{{ pii_key_phone_pattern() }}')
        and regexp_matches({{ column }}, '^\(?{{ pii_phone_pattern() }}$')
    )
{%- endmacro %}

{#- Whether the text of `column` (a key) is an email or a phone number. -#}
{% macro looks_like_personal_data_key(column) -%}
    (
        regexp_matches({{ column }}, '{{ pii_email_pattern() }}')
        or {{ looks_like_phone_key(column) }}
    )
{%- endmacro %}
