{#- Checks the header of one raw file against the contract, appending to
    `problems`: a required column missing, or a contract column present
    twice (names match case-insensitively and trimmed). `names` are the
    file's column names in file order. Returns true when the file can be
    read. -#}
{% macro load_raw_check_columns(label, contract, names, problems) %}
    {%- set seen = [] -%}
    {%- set duplicated = [] -%}
    {%- for name in names -%}
        {%- set key = name | trim | lower -%}
        {%- if key in seen and key not in duplicated -%}
            {%- do duplicated.append(key) -%}
        {%- endif -%}
        {%- do seen.append(key) -%}
    {%- endfor -%}
    {#- The header is file content: at most 20 names of at most 40
        characters are shown (load_raw_stop escapes control characters), so
        a wrong file (not a CSV) is not echoed. -#}
    {%- set shown = [] -%}
    {%- for name in names[:20] -%}
        {%- do shown.append(name[:40] ~ ('...' if name | length > 40 else '')) -%}
    {%- endfor -%}
    {%- if names | length > 20 -%}
        {%- do shown.append('and ' ~ (names | length - 20) ~ ' more') -%}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- set twice = [] -%}
    {%- for column in contract -%}
        {%- if column.meta.get('required') and column.name not in seen -%}
            {%- do missing.append(column.name) -%}
        {%- endif -%}
        {%- if column.name in duplicated -%}
            {%- do twice.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- set separators = [] -%}
        {%- for separator, word in [(';', 'semicolons'), ('\t', 'tabs'),
                                    ('|', 'pipes')]
            if names | length == 1 and separator in names[0] -%}
            {%- do separators.append(word) -%}
        {%- endfor -%}
        {%- set hint = "The file seems separated by " ~ separators[0]
            ~ ": save it comma-separated." if separators
            else "Name the columns as in docs/raw_data_contract.md." -%}
        {%- do problems.append(
            label ~ " lacks required column(s) " ~ missing | join(', ')
            ~ "; it has " ~ (shown | join(', ') if shown else 'no columns')
            ~ ". " ~ hint
        ) -%}
    {%- endif -%}
    {%- if twice -%}
        {%- do problems.append(
            label ~ " has column(s) " ~ twice | join(', ')
            ~ " more than once (names are matched case-insensitively): keep "
            ~ "one of each."
        ) -%}
    {%- endif -%}
    {{ return(not missing and not twice) }}
{% endmacro %}
