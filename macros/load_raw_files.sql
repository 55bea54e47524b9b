{#- on-run-start hook. For every source table declared in schema `raw` (the
    raw contract, models/staging/*/_*__sources.yml) it loads
    `<raw_dir>/<table>.csv` or `<raw_dir>/<table>.parquet` (and the load
    batches in `<raw_dir>/<table>/`) into `raw.<table>`: the contract's
    columns in contract order, all as text, plus `_row_number` (1-based data
    row of the file). A table whose file is absent becomes an empty table of
    the same shape, so the marts built on it come out empty instead of
    failing.

    Settings are checked first (every dbt variable, the raw directory
    CRM_RAW_DIR).
    Then every file is checked while it is read (see load_raw_csv); the
    problems of all files are gathered and the build stops once, with one
    message listing each problem with its file, row or column and what to
    fix. User values (paths, header names) only reach SQL as escaped string
    literals. -#}
{% macro load_raw_files() %}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'seed', 'test') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set raw_dir = (setting_value('CRM_RAW_DIR') | string).rstrip('/') -%}
    {%- set problems = [] -%}
    {%- do load_raw_check_settings(raw_dir, problems) -%}
    {%- if problems -%}
        {%- do load_raw_stop(
            "Invalid settings; nothing was loaded:", problems
        ) -%}
    {%- endif -%}
    {%- set dir_sql = raw_dir | replace("'", "''") -%}
    {%- set found = run_query(
        "select count(*) from glob('" ~ dir_sql ~ "/*')"
    ).columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {%- do load_raw_stop("Invalid settings; nothing was loaded:", [
            "raw_dir '" ~ raw_dir ~ "' holds no files (or does not exist). "
            ~ "Set CRM_RAW_DIR to the directory with your CSV/Parquet "
            ~ "files; see docs/raw_data_contract.md."
        ]) -%}
    {%- endif -%}
    {%- do run_query("create schema if not exists raw") -%}
    {%- set loaded = [] -%}
    {%- set tables = [] -%}
    {%- for source in graph.sources.values()
        if source.schema == 'raw' and source.package_name == project_name -%}
        {%- do tables.append(source.identifier) -%}
        {%- do loaded.append(load_raw_table(source, raw_dir, problems)) -%}
    {%- endfor -%}
    {%- do load_raw_check_names(raw_dir, tables, problems) -%}
    {#- Purchase files with a header and no rows would build marts with no
        purchase at all (and fail on untyped empty columns): named here,
        before the build. -#}
    {%- set purchase_files = [] -%}
    {%- for table in ['orders', 'transactions'] if table in loaded -%}
        {%- set has_problem = [] -%}
        {%- for problem in problems
            if problem.startswith(table ~ '.') or problem.startswith(table ~ '/') -%}
            {%- do has_problem.append(problem) -%}
        {%- endfor -%}
        {%- if not has_problem -%}{%- do purchase_files.append(table) -%}{%- endif -%}
    {%- endfor -%}
    {%- set purchase_loaded = loaded | select('in', ['orders', 'transactions'])
        | list -%}
    {%- if purchase_files and purchase_files | length == purchase_loaded | length -%}
        {%- set purchase_rows = run_query(
            "select (select count(*) from raw." ~ purchase_files
            | join(") + (select count(*) from raw.") ~ ")"
        ).columns[0].values()[0] -%}
        {%- if purchase_rows == 0 -%}
            {%- do problems.append(
                purchase_files | join('.csv and ') ~ ".csv has no data rows "
                ~ "(only a header), and there is no other purchase data, so "
                ~ "there is "
                ~ "nothing to build: add the rows (orders.csv with "
                ~ "order_lines.csv, or transactions.csv), then build again."
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if problems -%}
        {%- do load_raw_stop(
            "Bad raw input in '" ~ raw_dir ~ "'; the build stopped before "
            ~ "anything was built. Fix these and run again (rows count from 1 "
            ~ "after the header row; the file formats: "
            ~ "docs/raw_data_contract.md):",
            problems
        ) -%}
    {%- endif -%}
    {%- if 'orders' not in loaded and 'transactions' not in loaded -%}
        {%- do load_raw_stop("Nothing to build:", [
            "No purchase data in raw_dir '" ~ raw_dir ~ "': provide "
            ~ "orders.csv (with order_lines.csv) or transactions.csv; "
            ~ "see docs/raw_data_contract.md."
        ]) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
