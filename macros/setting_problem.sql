{#- The one-line problem with dbt variable `name` = `value`, or '' when the
    value is allowed by its declaration (settings_declared, generated from
    crm_analytics.settings): a number matching the declared pattern within
    its bounds (whole for an integer), a real YYYY-MM-DD date (or empty), one
    of the choices (any case). The message names the setting and says what
    is allowed, word for word as crm_analytics.settings.check_value. The
    one validator of the dbt variables: load_raw_check_settings checks every
    one with it, as_of_date_literal and the RFM grain macros theirs. -#}
{% macro setting_problem(name, value) %}
    {%- set setting = settings_declared()[name] -%}
    {%- set text = value | string | trim -%}
    {%- set valid = true -%}
    {%- if setting['type'] in ('integer', 'number') -%}
        {%- set valid = modules.re.fullmatch(setting['pattern'], text)
            is not none -%}
        {%- if valid -%}
            {%- set number = text | float -%}
            {%- set valid = setting['low'] <= number <= setting['high']
                and (setting['type'] != 'integer' or number % 1 == 0) -%}
        {%- endif -%}
    {%- elif setting['type'] == 'date' -%}
        {%- if text not in ('', 'none', 'None', 'null') -%}
            {%- set parts = modules.re.fullmatch(
                '([0-9]{4})-([0-9]{2})-([0-9]{2})', text
            ) -%}
            {%- set valid = false -%}
            {%- if parts -%}
                {%- set year = parts.group(1) | int -%}
                {%- set month = parts.group(2) | int -%}
                {%- set day = parts.group(3) | int -%}
                {%- set leap = year % 4 == 0
                    and (year % 100 != 0 or year % 400 == 0) -%}
                {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31] -%}
                {%- set valid = year >= 1 and 1 <= month <= 12
                    and 1 <= day <= month_days[month - 1] -%}
            {%- endif -%}
        {%- endif -%}
    {%- elif setting['choices'] -%}
        {%- set valid = text | lower in setting['choices'] -%}
    {%- elif setting['pattern'] -%}
        {%- set valid = modules.re.fullmatch(setting['pattern'], text)
            is not none -%}
    {%- endif -%}
    {%- if valid -%}
        {{- return('') -}}
    {%- endif -%}
    {{- return(
        "Variable " ~ name ~ " must be " ~ setting['allowed'] ~ ", got '"
        ~ text[:80] ~ "'." ~ (" " ~ setting['hint'] if setting['hint'] else "")
    ) -}}
{% endmacro %}
