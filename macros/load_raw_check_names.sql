{#- Files directly in raw_dir that belong to no raw table are not read. When
    such a file looks like a raw table's file (the name in another case, or
    another format: `Orders.CSV`, `orders.xlsx`) it is a problem, since its
    rows would silently be missing; any other file is listed in the log as
    ignored. -#}
{% macro load_raw_check_names(raw_dir, tables, problems) %}
    {%- set dir_sql = raw_dir | replace("'", "''") -%}
    {%- set files = run_query(
        "select file from glob('" ~ dir_sql ~ "/*') order by file"
    ).columns[0].values() -%}
    {#- A folder named like a raw table's file (`orders.csv/`) would be
        skipped as no file at all: name it. -#}
    {%- set folders = run_query(
        "select file from glob('" ~ dir_sql ~ "/*/') order by file"
    ).columns[0].values() -%}
    {%- for folder in folders -%}
        {%- set name = folder.rstrip('/').split('/')[-1] -%}
        {%- set stem = name.split('.')[0] -%}
        {%- if stem | lower in tables
            and name[stem | length:] | lower in ('.csv', '.parquet') -%}
            {%- do problems.append(
                name ~ " is a folder, not a file: a raw table is read from "
                ~ "the file " ~ stem | lower ~ ".csv or .parquet (and from load "
                ~ "batches in a folder named " ~ stem | lower ~ "/). Put the "
                ~ "file itself there, or rename the folder."
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for file in files -%}
        {%- set name = file.split('/')[-1] -%}
        {%- set stem = name.split('.')[0] -%}
        {%- set extension = name[stem | length:] -%}
        {%- if stem in tables and extension in ('.csv', '.parquet') -%}
            {#- a raw table's file, read by load_raw_table -#}
        {%- elif stem | lower in tables -%}
            {%- set wanted = stem | lower ~ (
                extension | lower if extension | lower in ('.csv', '.parquet')
                else '.csv'
            ) -%}
            {%- if extension | lower in ('.csv', '.parquet') -%}
                {%- do problems.append(
                    name ~ ": file names are case-sensitive; rename it to "
                    ~ wanted ~ " so that it is read."
                ) -%}
            {%- else -%}
                {%- do problems.append(
                    name ~ ": not a CSV or Parquet file (" ~ extension
                    ~ "); export the table as " ~ wanted ~ " (UTF-8 CSV) "
                    ~ "or Parquet."
                ) -%}
            {%- endif -%}
        {%- else -%}
            {{ log("ignored (not a raw table's file): " ~ load_raw_shown(name), info=true) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
