{#- Checks the settings a user gives before anything is read, appending one
    line per bad value to `problems`: every dbt variable against its
    declaration (setting_problem: as_of_date a real YYYY-MM-DD date, the
    numbers within their bounds, as they are spliced into SQL, the RFM
    grains day or week), a raw_dir variable (not a setting: the raw
    directory is CRM_RAW_DIR), and the raw directory a path without the
    characters DuckDB's glob reads as a pattern. -#}
{% macro load_raw_check_settings(raw_dir, problems) %}
    {%- for name, setting in settings_declared().items()
        if not setting['env'] -%}
        {%- set problem = setting_problem(name, var(name)) -%}
        {%- if problem -%}
            {%- do problems.append(problem) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if var('raw_dir', none) is not none -%}
        {%- do problems.append(
            "Variable raw_dir is not a setting: set the environment variable "
            ~ "CRM_RAW_DIR to the directory with the raw files."
        ) -%}
    {%- endif -%}
    {%- if raw_dir | trim == '' -%}
        {%- do problems.append(
            "raw_dir is empty: set CRM_RAW_DIR to the directory with your "
            ~ "CSV/Parquet files."
        ) -%}
    {%- elif modules.re.search('[*?\\[\\]]', raw_dir) -%}
        {%- do problems.append(
            "raw_dir '" ~ raw_dir ~ "' contains * ? [ or ], which DuckDB "
            ~ "reads as a file pattern: move the files to a directory whose "
            ~ "path has none of them (or point CRM_RAW_DIR at a symlink)."
        ) -%}
    {%- endif -%}
{% endmacro %}
