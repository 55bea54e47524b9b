{#- on-run-start hook: the checks before anything is built.

    The raw files were loaded into schema `raw` when dbt opened the build
    file, by the project's dbt-duckdb plugin (crm_analytics.ingest: only
    what is new, every file checked as it is read). This hook checks the
    settings first (every dbt variable, the raw directory CRM_RAW_DIR), and
    stops with one message when they are bad; then it reports the problems
    the load found (raw._load_problems) and stops on them: one message, a
    line per problem with its file, row or column and what to fix. Last,
    in dbt build and run, it records the settings the ML refit schedule
    compares (record_run_settings). -#}
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
    {%- set loaded = run_query(
        "select count(*) from duckdb_tables() where schema_name = 'raw' "
        ~ "and table_name = '_load_problems'"
    ).columns[0].values()[0] -%}
    {%- if loaded == 0 -%}
        {%- do load_raw_stop("The raw files were not loaded:", [
            "the profile's plugin crm_analytics.duckdb_plugin loads them when "
            ~ "dbt opens the build file; add it to the profile's plugins (see "
            ~ "profiles/profiles.yml), or load them with python -m "
            ~ "crm_analytics.ingest."
        ]) -%}
    {%- endif -%}
    {%- set found_problems = run_query(
        "select headline, problem from raw._load_problems order by position"
    ) -%}
    {%- if found_problems.rows | length > 0 -%}
        {%- set headline = found_problems.rows[0][0] -%}
        {%- set lines = [] -%}
        {%- for row in found_problems.rows if row[0] == headline -%}
            {%- do lines.append(row[1]) -%}
        {%- endfor -%}
        {%- do load_raw_stop(headline, lines) -%}
    {%- endif -%}
    {%- if flags.WHICH in ('build', 'run') -%}
        {%- do record_run_settings() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
