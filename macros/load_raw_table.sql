{#- Loads one raw contract table (see load_raw_files) from
    `<dir>/<table>.csv|.parquet` and/or the load batches in
    `<dir>/<table>/*.csv|*.parquet`: the single file first, then the batch
    files in name order, each row numbered after the rows before it (so a
    new batch named to sort last leaves earlier row numbers unchanged).
    Returns the table name when a file was found, else an empty string. -#}
{% macro load_raw_table(source, dir_sql) %}
    {%- set table = source.identifier -%}
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
        {{ exceptions.raise_compiler_error(
            "Both CSV and Parquet files for raw table " ~ table ~ " ("
            ~ files | join(', ') ~ "): keep one format per raw table."
        ) }}
    {%- endif -%}
    {%- set contract = source.columns.values() | list -%}
    {%- if files | length == 0 -%}
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
        {{ log("raw." ~ table ~ ": no file, empty table", info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- for file in files -%}
        {%- set statement = "insert into raw." ~ table -%}
        {%- if loop.first -%}
            {%- set statement = "create or replace table raw." ~ table ~ " as" -%}
        {%- endif -%}
        {%- do run_query(
            statement ~ " " ~ raw_file_select(file, contract, table, loop.first)
        ) -%}
    {%- endfor -%}
    {%- set count = run_query(
        "select count(*) from raw." ~ table
    ).columns[0].values()[0] -%}
    {%- set origin = files[0] if files | length == 1
        else files | length ~ " files (" ~ files[0] ~ " ... " ~ files[-1] ~ ")" -%}
    {{ log("raw." ~ table ~ ": " ~ count ~ " rows from " ~ origin, info=true) }}
    {{ return(table) }}
{% endmacro %}


{#- The select that reads one raw file as the contract's columns (all text),
    numbered after the rows already in raw.<table>. Stops with a clear
    message when the file lacks a required column. -#}
{% macro raw_file_select(file, contract, table, is_first) %}
    {%- set file_sql = file | replace("'", "''") -%}
    {%- if file.endswith('.csv') -%}
        {%- set reader = "read_csv('" ~ file_sql ~ "', header = true, "
            ~ "all_varchar = true, auto_detect = true)" -%}
    {%- else -%}
        {%- set reader = "read_parquet('" ~ file_sql ~ "')" -%}
    {%- endif -%}
    {%- set present = {} -%}
    {%- for row in run_query("describe select * from " ~ reader) -%}
        {%- do present.update({row[0] | trim | lower: row[0]}) -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in contract
        if column.meta.get('required') and column.name not in present -%}
        {%- do missing.append(column.name) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            file ~ " lacks required column(s) " ~ missing | join(', ')
            ~ "; it has " ~ present.values() | join(', ')
            ~ ". See docs/raw_data_contract.md."
        ) }}
    {%- endif -%}
    {%- set offset = "0" if is_first
        else "(select coalesce(max(_row_number), 0) from raw." ~ table ~ ")" -%}
    {%- set select_list -%}
        {{ offset }} + row_number() over () as _row_number,
        '{{ file_sql }}'::varchar as _source_file
        {%- for column in contract -%}
            {%- if column.name in present -%}
                , cast({{ adapter.quote(present[column.name]) }} as varchar)
                as {{ adapter.quote(column.name) }}
            {%- else -%}
                , null::varchar as {{ adapter.quote(column.name) }}
            {%- endif -%}
        {%- endfor %}
    {%- endset -%}
    {{ return("select " ~ select_list ~ " from " ~ reader) }}
{% endmacro %}
