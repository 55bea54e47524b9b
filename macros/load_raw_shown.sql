{#- The one way a file name, path or value from the raw input is shown in a
    message or log line: control characters (C0, DEL, C1) and the Unicode
    bidirectional overrides are written as escapes (`\n`, `\x1b`, `\u202e`),
    so a name holding a line break cannot forge a log line and an ANSI
    escape cannot clear the screen; with `limit`, text beyond that many
    characters is cut and marked with `...`. -#}
{% macro load_raw_shown(text, limit=none) %}
    {%- set shown = text | string -%}
    {%- if limit is not none and shown | length > limit -%}
        {%- set shown = shown[:limit] ~ '...' -%}
    {%- endif -%}
    {%- set shown = shown | replace('\\', '\\\\') -%}
    {%- set shown = shown | replace('\n', '\\n') | replace('\r', '\\r')
        | replace('\t', '\\t') -%}
    {#- a list, since a `set` inside a loop does not outlive the loop -#}
    {%- set steps = [shown] -%}
    {%- for code in range(0, 32) | list + [127] + range(128, 160) | list -%}
        {%- set hex = '%02x' | format(code) -%}
        {%- do steps.append(
            modules.re.sub('\\x' ~ hex, '\\\\x' ~ hex, steps[-1])
        ) -%}
    {%- endfor -%}
    {%- for code in ['202a', '202b', '202c', '202d', '202e', '2066', '2067',
                     '2068', '2069'] -%}
        {%- do steps.append(
            modules.re.sub('\\u' ~ code, '\\\\u' ~ code, steps[-1])
        ) -%}
    {%- endfor -%}
    {{ return(steps[-1]) }}
{% endmacro %}
