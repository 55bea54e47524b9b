{#- Loads one raw contract table (see load_raw_files). Returns the table name
    when a file was found, else an empty string. -#}
{% macro load_raw_table(source, dir_sql) %}
    {%- set table = source.identifier -%}
    {%- set files = run_query(
        "select file from glob('" ~ dir_sql ~ "/" ~ table ~ ".csv') "
        ~ "union all select file from glob('" ~ dir_sql ~ "/" ~ table
        ~ ".parquet') order by 1"
    ).columns[0].values() -%}
    {%- if files | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "Both " ~ files | join(' and ') ~ " exist: keep one file per "
            ~ "raw table."
        ) }}
    {%- endif -%}
    {%- set contract = source.columns.values() | list -%}
    {%- if files | length == 0 -%}
        {%- set select_list -%}
            null::bigint as _row_number
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
    {%- set file_sql = files[0] | replace("'", "''") -%}
    {%- if files[0].endswith('.csv') -%}
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
            files[0] ~ " lacks required column(s) " ~ missing | join(', ')
            ~ "; it has " ~ present.values() | join(', ')
            ~ ". See docs/raw_data_contract.md."
        ) }}
    {%- endif -%}
    {%- set select_list -%}
        row_number() over () as _row_number
        {%- for column in contract -%}
            {%- if column.name in present -%}
                , cast({{ adapter.quote(present[column.name]) }} as varchar)
                as {{ adapter.quote(column.name) }}
            {%- else -%}
                , null::varchar as {{ adapter.quote(column.name) }}
            {%- endif -%}
        {%- endfor %}
    {%- endset -%}
    {%- do run_query(
        "create or replace table raw." ~ table ~ " as select "
        ~ select_list ~ " from " ~ reader
    ) -%}
    {%- set count = run_query(
        "select count(*) from raw." ~ table
    ).columns[0].values()[0] -%}
    {{ log("raw." ~ table ~ ": " ~ count ~ " rows from " ~ files[0], info=true) }}
    {{ return(table) }}
{% endmacro %}
