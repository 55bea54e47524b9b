{#- Loads one raw contract table (see load_raw_files) from
    `<dir>/<table>.csv|.parquet` and/or the load batches in
    `<dir>/<table>/*.csv|*.parquet`: the single file first, then the batch
    files in name order, each row numbered after the rows before it (so a
    new batch named to sort last leaves earlier row numbers unchanged).
    A file with problems (see load_raw_csv and raw_file_select) adds them to
    `problems` and loads nothing. Returns the table name when a file was
    found, else an empty string. -#}
{% macro load_raw_table(source, raw_dir, problems) %}
    {%- set table = source.identifier -%}
    {%- set dir_sql = raw_dir | replace("'", "''") -%}
    {%- set files = run_query(
        "select file from (select file, 0 as batch from glob('" ~ dir_sql
        ~ "/" ~ table ~ ".*') union all select file, 1 from glob('" ~ dir_sql
        ~ "/" ~ table ~ "/*')) where file like '%.csv' or file like '%.parquet' "
        ~ "order by batch, file"
    ).columns[0].values() -%}
    {%- set formats = [] -%}
    {%- for file in files -%}
        {%- set format = file.split('.')[-1] -%}
        {%- if format not in formats -%}{%- do formats.append(format) -%}{%- endif -%}
    {%- endfor -%}
    {%- if formats | length > 1 -%}
        {%- do problems.append(
            "Both CSV and Parquet files for raw table " ~ table ~ " ("
            ~ files | map('replace', raw_dir ~ '/', '') | join(', ')
            ~ "): keep one format per raw table."
        ) -%}
        {{ return(table) }}
    {%- endif -%}
    {%- set contract = source.columns.values() | list -%}
    {%- set select_list -%}
        null::bigint as _row_number, null::varchar as _source_file
        {%- for column in contract -%}
            , null::varchar as {{ adapter.quote(column.name) }}
        {%- endfor %}
    {%- endset -%}
    {%- do run_query(
        "create or replace table raw." ~ table ~ " as select "
        ~ select_list ~ " where false"
    ) -%}
    {%- if files | length == 0 -%}
        {{ log("raw." ~ table ~ ": no file, empty table", info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- for file in files -%}
        {#- A symbolic link (the file, or the batch folder it is in) can
            point outside raw_dir; it is refused and never read. -#}
        {%- set label = file[raw_dir | length + 1:]
            if file.startswith(raw_dir ~ '/') else file -%}
        {%- set parent = file.rsplit('/', 1)[0] -%}
        {%- set link = run_query(
            "select crm_is_symlink('" ~ file | replace("'", "''") ~ "') or ("
            ~ ("crm_is_symlink('" ~ parent | replace("'", "''") ~ "')"
                if parent != raw_dir else "false") ~ ")"
        ).columns[0].values()[0] -%}
        {%- if link -%}
            {%- do problems.append(
                label ~ " is a symbolic link (or in a linked folder): the "
                ~ "loader reads only files that are in the raw directory, "
                ~ "since a link can point anywhere. Copy the file in instead "
                ~ "(the raw directory itself may be a link)."
            ) -%}
            {%- continue -%}
        {%- endif -%}
        {%- set select = raw_file_select(file, raw_dir, contract, table, problems) -%}
        {%- if select -%}
            {%- do run_query("insert into raw." ~ table ~ " " ~ select) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query("drop table if exists raw_load_rows") -%}
    {%- set count = run_query(
        "select count(*) from raw." ~ table
    ).columns[0].values()[0] -%}
    {%- set origin = files[0] if files | length == 1
        else files | length ~ " files (" ~ files[0] ~ " ... " ~ files[-1] ~ ")" -%}
    {{ log("raw." ~ table ~ ": " ~ count ~ " rows from " ~ load_raw_shown(origin), info=true) }}
    {{ return(table) }}
{% endmacro %}


{#- The select that reads one raw file as the contract's columns (all text),
    numbered after the rows already in raw.<table>, or an empty string when
    the file has problems (appended to `problems`): a CSV file is checked
    and staged by load_raw_csv; a Parquet file is typed, so only its columns
    are checked. -#}
{% macro raw_file_select(file, raw_dir, contract, table, problems) %}
    {%- set file_sql = file | replace("'", "''") -%}
    {%- set label = file[raw_dir | length + 1:]
        if file.startswith(raw_dir ~ '/') else file -%}
    {%- set offset -%}
        (select coalesce(max(_row_number), 0) from raw.{{ table }})
    {%- endset -%}
    {%- if file.endswith('.csv') -%}
        {%- set positions = load_raw_csv(file, label, contract, problems) -%}
        {%- if positions is none -%}{{ return('') }}{%- endif -%}
        {%- set select_list -%}
            {{ offset }} + _rn as _row_number,
            '{{ file_sql }}'::varchar as _source_file
            {%- for column in contract -%}
                {%- if column.name in positions -%}
                    , nullif(c{{ positions[column.name] }}, '')
                    as {{ adapter.quote(column.name) }}
                {%- else -%}
                    , null::varchar as {{ adapter.quote(column.name) }}
                {%- endif -%}
            {%- endfor %}
        {%- endset -%}
        {{ return("select " ~ select_list ~ " from raw_load_rows order by _rn") }}
    {%- endif -%}
    {#- A Parquet file starts and ends with PAR1; a file without the marks
        (a CSV renamed, a partial copy) would fail DuckDB's read with a bare
        error. The check reads the file once, so it is left to DuckDB above
        1 GB. -#}
    {%- set size = run_query(
        "select size from read_blob('" ~ file_sql ~ "')"
    ).columns[0].values()[0] -%}
    {%- if size < 1000000000 and not run_query(
        "select size >= 12 and content[1:4] = 'PAR1'::blob "
        ~ "and content[-4:] = 'PAR1'::blob from read_blob('" ~ file_sql ~ "')"
    ).columns[0].values()[0] -%}
        {%- do problems.append(
            label ~ " is not a Parquet file (it lacks the PAR1 marks at its "
            ~ "start and end: a CSV file renamed, or a partial copy?). Export "
            ~ "it again, or name a CSV file " ~ table ~ ".csv."
        ) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reader = "read_parquet('" ~ file_sql ~ "')" -%}
    {%- set names = run_query(
        "describe select * from " ~ reader
    ).columns[0].values() | list -%}
    {#- DuckDB renames a second column of the same name in another case
        (`order_id`, `ORDER_ID` become order_id, ORDER_ID_1), so the
        duplicate check reads the file's own top-level names from its
        schema, as a CSV header is read. -#}
    {%- set schema = run_query(
        "select name, coalesce(num_children, 0) from parquet_schema('"
        ~ file_sql ~ "')"
    ) -%}
    {%- set file_names = [] -%}
    {%- set stack = [] -%}
    {%- for row in schema.rows -%}
        {%- if loop.first -%}
            {%- do stack.append(row[1]) -%}
        {%- else -%}
            {%- if stack | length == 1 -%}{%- do file_names.append(row[0]) -%}{%- endif -%}
            {%- do stack.append(stack.pop() - 1) -%}
            {%- if row[1] > 0 -%}{%- do stack.append(row[1]) -%}{%- endif -%}
            {%- for _ in range(stack | length) if stack and stack[-1] == 0 -%}
                {%- do stack.pop() -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not load_raw_check_columns(label, contract, file_names, problems) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set present = {} -%}
    {%- for name in names -%}
        {%- do present.update({name | trim | lower: name}) -%}
    {%- endfor -%}
    {%- set select_list -%}
        {{ offset }} + row_number() over () as _row_number,
        '{{ file_sql }}'::varchar as _source_file
        {%- for column in contract -%}
            {%- if column.name in present -%}
                , cast("{{ present[column.name] | replace('"', '""') }}" as varchar)
                as {{ adapter.quote(column.name) }}
            {%- else -%}
                , null::varchar as {{ adapter.quote(column.name) }}
            {%- endif -%}
        {%- endfor %}
    {%- endset -%}
    {{ return("select " ~ select_list ~ " from " ~ reader) }}
{% endmacro %}
