{#- on-run-start hook. For every source table declared in schema `raw` (the
    raw contract, models/staging/*/_*__sources.yml) it loads
    `<raw_dir>/<table>.csv` or `<raw_dir>/<table>.parquet` into
    `raw.<table>`: the contract's columns in contract order, all as text,
    plus `_row_number` (1-based data row of the file). A table whose file is
    absent becomes an empty table of the same shape, so the marts built on it
    come out empty instead of failing. Stops with one clear message when the
    directory is missing, a file lacks a required column, a table has both a
    CSV and a Parquet file, or there is no purchase data at all. -#}
{% macro load_raw_files() %}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'seed', 'test') -%}
        {{ return('') }}
    {%- endif -%}
    {#- Fail fast on a bad as_of_date, before anything is loaded. -#}
    {%- do as_of_date_literal() -%}
    {%- set raw_dir = (var('raw_dir') | string).rstrip('/') -%}
    {%- set dir_sql = raw_dir | replace("'", "''") -%}
    {%- set found = run_query(
        "select count(*) from glob('" ~ dir_sql ~ "/*')"
    ).columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ exceptions.raise_compiler_error(
            "raw_dir '" ~ raw_dir ~ "' holds no files (or does not exist). "
            ~ "Set CRM_RAW_DIR (or --vars '{raw_dir: ...}') to the directory "
            ~ "with your CSV/Parquet files; see docs/raw_data_contract.md."
        ) }}
    {%- endif -%}
    {%- do run_query("create schema if not exists raw") -%}
    {%- set loaded = [] -%}
    {%- for source in graph.sources.values()
        if source.schema == 'raw' and source.package_name == project_name -%}
        {%- do loaded.append(load_raw_table(source, dir_sql)) -%}
    {%- endfor -%}
    {%- if 'orders' not in loaded and 'transactions' not in loaded -%}
        {{ exceptions.raise_compiler_error(
            "No purchase data in raw_dir '" ~ raw_dir ~ "': provide "
            ~ "orders.csv (with order_lines.csv) or transactions.csv; "
            ~ "see docs/raw_data_contract.md."
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
