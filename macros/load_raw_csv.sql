{#- Reads one raw CSV file into the temporary table `raw_load_rows`
    (`_rn`, the 1-based row after the header, then `c1`, `c2`, ... by
    position, all text, empty values as '') and checks it. Returns the
    position of each contract column present (a dict), or none when the
    file has problems, which are appended to `problems` with the file, the
    row and what to fix.

    The dialect is fixed (comma, `"` quoting, UTF-8, a header row), not
    sniffed, so a malformed row cannot change how the whole file is read.
    DuckDB's strict mode stops on the first bad row with an error the hook
    cannot catch, so the file is read leniently instead and every row is
    checked: one spare column beyond the header catches rows with too many
    values, and since empty values read as '' (`nullstr` is a marker no
    file holds) a null in the last column marks a row with too few values
    (a row cut short, or an unclosed quote that swallowed what followed).
    Rows DuckDB cannot read at all (not UTF-8, longer than the line size
    limit) are collected with store_rejects. Columns are addressed by
    position, so header names never reach SQL. -#}
{% macro load_raw_csv(file, label, contract, problems) %}
    {%- set file_sql = file | replace("'", "''") -%}
    {%- set dialect = "delim = ',', quote = '\"', escape = '\"', "
        ~ "strict_mode = false, null_padding = true, parallel = false, "
        ~ "nullstr = '#crm_analytics:no value#', store_rejects = true, "
        ~ "rejects_table = 'raw_load_errors', rejects_scan = 'raw_load_scans'" -%}
    {%- set max_columns = 1000 -%}
    {%- set wide = [] -%}
    {%- for i in range(1, max_columns + 1) -%}
        {%- do wide.append("'c" ~ i ~ "': 'varchar'") -%}
    {%- endfor -%}
    {%- do run_query("drop table if exists raw_load_errors") -%}
    {%- do run_query("drop table if exists raw_load_scans") -%}
    {%- set header = run_query(
        "select cast(substr(column_name, 2) as integer) as position, "
        ~ "header_name from (unpivot (select * from read_csv('" ~ file_sql
        ~ "', header = false, auto_detect = false, columns = {"
        ~ wide | join(', ') ~ "}, " ~ dialect ~ ") limit 1) on columns(*) "
        ~ "into name column_name value header_name) order by 1"
    ) -%}
    {%- set names = header.columns[1].values() | list -%}
    {%- set width = [names | length, 1] | max -%}
    {%- set columns = [] -%}
    {%- for i in range(1, width + 2) -%}
        {%- do columns.append("'c" ~ i ~ "': 'varchar'") -%}
    {%- endfor -%}
    {%- do run_query("drop table if exists raw_load_errors") -%}
    {%- do run_query("drop table if exists raw_load_scans") -%}
    {%- do run_query(
        "create or replace temp table raw_load_rows as "
        ~ "select row_number() over () as _rn, * from read_csv('" ~ file_sql
        ~ "', header = " ~ ('true' if names else 'false')
        ~ ", auto_detect = false, columns = {" ~ columns | join(', ') ~ "}, "
        ~ dialect ~ ")"
    ) -%}
    {%- set unreadable = run_query(
        "select line, min(error_type), count(*) over () from raw_load_errors "
        ~ "group by line order by line limit 3"
    ) -%}
    {%- set skip = 1 if names else 0 -%}
    {%- for row in unreadable -%}
        {%- set where = label ~ (" header row" if row[0] <= skip
            else " row " ~ (row[0] - skip)) -%}
        {%- if row[1] == 'INVALID ENCODING' -%}
            {%- set what = "is not UTF-8 text (a Latin-1/Windows-1252 or "
                ~ "UTF-16 file, or not a CSV at all?): save the file as UTF-8 "
                ~ "CSV (Excel: 'CSV UTF-8'; or iconv -f latin1 -t utf-8)." -%}
        {%- elif row[1] == 'LINE SIZE OVER MAXIMUM' -%}
            {%- set what = "is longer than DuckDB's maximum line size (2 MB): "
                ~ "shorten the value, or look for a quote that is never "
                ~ "closed." -%}
        {%- else -%}
            {%- set what = "cannot be read (" ~ row[1] ~ ")." -%}
        {%- endif -%}
        {%- do problems.append(where ~ " " ~ what) -%}
    {%- endfor -%}
    {%- if unreadable.rows | length > 0 -%}
        {%- if unreadable.rows[0][2] > 3 -%}
            {%- do problems.append(
                label ~ ": " ~ (unreadable.rows[0][2] - 3)
                ~ " more unreadable row(s) like these."
            ) -%}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not names -%}
        {%- set size = run_query(
            "select size from read_blob('" ~ file_sql ~ "')"
        ).columns[0].values()[0] -%}
        {%- do problems.append(
            label ~ (" is empty (0 bytes)" if size == 0
                else " has no header row (only blank lines)")
            ~ ": write the header row (and the rows, if any), or delete the "
            ~ "file if the table has no data."
        ) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set has_nul = [] -%}
    {%- for name in names if '\x00' in name -%}
        {%- do has_nul.append(name) -%}
    {%- endfor -%}
    {%- if has_nul -%}
        {%- do problems.append(
            label ~ " has NUL characters in its header row: a UTF-16 "
            ~ "('Unicode text') file? Save it as UTF-8 CSV."
        ) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not load_raw_check_columns(label, contract, names, problems) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set n = names | length -%}
    {%- set counted = [] -%}
    {%- for i in range(1, n + 1) -%}
        {%- do counted.append("(c" ~ i ~ " is not null)::integer") -%}
    {%- endfor -%}
    {%- set excerpt = [] -%}
    {%- for i in range(1, [n, 3] | min + 1) -%}
        {%- do excerpt.append("c" ~ i) -%}
    {%- endfor -%}
    {%- set malformed = run_query(
        "select _rn, " ~ counted | join(' + ') ~ ", c" ~ (n + 1)
        ~ " is not null, left(regexp_replace(concat_ws(',', "
        ~ excerpt | join(', ') ~ "), '[\\x00-\\x1f\\x7f]', ' ', 'g'), 50), "
        ~ "count(*) over () from raw_load_rows where c" ~ n ~ " is null or c"
        ~ (n + 1) ~ " is not null order by _rn limit 3"
    ) -%}
    {%- for row in malformed -%}
        {%- if row[2] -%}
            {%- do problems.append(
                label ~ " row " ~ row[0] ~ " has more values than the "
                ~ n ~ " columns of the header (it starts '" ~ row[3]
                ~ "'): a comma in a value that is not quoted, or a quote "
                ~ "that is never closed? Put values holding commas, quotes or "
                ~ "line breaks in double quotes (\"\" for a quote inside)."
            ) -%}
        {%- else -%}
            {%- do problems.append(
                label ~ " row " ~ row[0] ~ " has " ~ row[1] ~ " value(s) "
                ~ "where the header has " ~ n ~ " columns (it starts '"
                ~ row[3] ~ "'): a row cut short, a line break outside quotes, "
                ~ "or a quote that is never closed? Put values holding commas, "
                ~ "quotes or line breaks in double quotes (\"\" for a quote "
                ~ "inside)."
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if malformed.rows | length > 0 -%}
        {%- if malformed.rows[0][4] > 3 -%}
            {%- do problems.append(
                label ~ ": " ~ (malformed.rows[0][4] - 3)
                ~ " more malformed row(s) like these."
            ) -%}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set breaks = [] -%}
    {%- for i in range(1, n + 1) -%}
        {%- do breaks.append("regexp_matches(c" ~ i ~ ", '[\\r\\n]')") -%}
    {%- endfor -%}
    {%- set breaks_any = breaks | join(' or ') -%}
    {#- An opening quote never closed in the last column makes the rest of
        the file one value of the last row, with a right count of values.
        So when the last row holds a line break, the file's quotes are
        counted line by line (no quoting): an odd total means an unclosed
        quote. -#}
    {%- set last_row = run_query(
        "select _rn, left(regexp_replace(concat_ws(',', "
        ~ excerpt | join(', ') ~ "), '[\\x00-\\x1f\\x7f]', ' ', 'g'), 50) "
        ~ "from raw_load_rows where _rn = (select max(_rn) from raw_load_rows)"
        ~ " and (" ~ breaks | join(' or ') ~ ")"
    ) -%}
    {%- if last_row.rows | length > 0 -%}
        {%- set odd_quotes = run_query(
            "select coalesce(sum(length(line) - length(replace(line, '\"', "
            ~ "''))), 0) % 2 = 1 from read_csv('" ~ file_sql ~ "', header = "
            ~ "false, auto_detect = false, columns = {'line': 'varchar', "
            ~ "'rest': 'varchar'}, delim = E'\\x01\\x02', quote = '', "
            ~ "escape = '', strict_mode = false, null_padding = true, "
            ~ "parallel = false)"
        ).columns[0].values()[0] -%}
        {%- if odd_quotes -%}
            {%- do problems.append(
                label ~ " row " ~ last_row.rows[0][0] ~ " (it starts '"
                ~ last_row.rows[0][1] ~ "') holds a quoted value that runs "
                ~ "to the end of the file: a quote opened and never closed? "
                ~ "Close it, and write \"\" for a quote inside a quoted "
                ~ "value."
            ) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endif -%}
    {#- A quote opened and never closed that is closed again further down
        (by a quote at the end of a later row) swallows the rows in between
        into one value, with a right count of values. Such a value holds a
        line break followed by a line that reads as a whole row of the same
        file: at least as many comma-separated values as the header has
        columns, the first of them shaped like the row's own first value
        (digits as 9, letters as a: 'O00011' is shaped like 'O00010'). A
        real multi-line comment rarely has a line like that, so the rule
        (checked after the quote running to the end
        of the file, which says more) stops the build rather than quarantining the rows it cannot tell
        apart. -#}
    {%- if n >= 2 -%}
        {%- set shape -%}
            regexp_replace(regexp_replace(trim(~), '[0-9]', '9', 'g'),
                '[^\W\d_]', 'a', 'g')
        {%- endset -%}
        {%- set swallowing = [] -%}
        {%- for i in range(1, n + 1) -%}
            {%- do swallowing.append(
                "len(list_filter(string_split(replace(replace(c" ~ i
                ~ ", chr(13) || chr(10), chr(10)), chr(13), chr(10)), "
                ~ "chr(10))[2:], lambda line: "
                ~ "len(string_split(line, ',')) >= " ~ n ~ " and "
                ~ shape | replace('~', "string_split(line, ',')[1]") ~ " = "
                ~ shape | replace('~', 'c1') ~ ")) > 0"
            ) -%}
        {%- endfor -%}
        {%- set column_cases = [] -%}
        {%- for i in range(1, n + 1) -%}
            {%- do column_cases.append(
                "when " ~ swallowing[i - 1] ~ " then " ~ i
            ) -%}
        {%- endfor -%}
        {%- set swallowed = run_query(
            "select _rn, case " ~ column_cases | join(' ') ~ " end, "
            ~ "left(regexp_replace(concat_ws(',', " ~ excerpt | join(', ')
            ~ "), '[\\x00-\\x1f\\x7f]', ' ', 'g'), 50), count(*) over () "
            ~ "from (select * from raw_load_rows where "
            ~ breaks_any ~ ") where " ~ swallowing | join(' or ')
            ~ " order by _rn limit 3"
        ) -%}
        {%- for row in swallowed -%}
            {%- do problems.append(
                label ~ " row " ~ row[0] ~ " (it starts '" ~ row[2]
                ~ "'): its " ~ names[row[1] - 1] | trim | lower ~ " value holds a "
                ~ "line break followed by what reads as a whole row of the "
                ~ "file, so a quote opened there and never closed has "
                ~ "probably swallowed the next row(s). Close the quote, and "
                ~ "write \"\" for a quote inside a quoted value."
            ) -%}
        {%- endfor -%}
        {%- if swallowed.rows | length > 0 -%}
            {%- if swallowed.rows[0][3] > 3 -%}
                {%- do problems.append(
                    label ~ ": " ~ (swallowed.rows[0][3] - 3)
                    ~ " more row(s) like these."
                ) -%}
            {%- endif -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endif -%}
    {%- set positions = {} -%}
    {%- for name in names -%}
        {%- if name | trim | lower not in positions -%}
            {%- do positions.update({name | trim | lower: loop.index}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(positions) }}
{% endmacro %}
