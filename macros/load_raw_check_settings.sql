{#- Checks the settings a user gives (dbt variables and raw_dir) before
    anything is read, appending one line per bad value to `problems`:
    as_of_date must be a real YYYY-MM-DD date, the numeric variables
    non-negative numbers (they are spliced into SQL), and raw_dir a path
    without the characters DuckDB's glob reads as a pattern. The RFM grains
    are checked where they are used, at parse time (rfm_period_start). -#}
{% macro load_raw_check_settings(raw_dir, problems) %}
    {%- set as_of = var('as_of_date', '') | string | trim -%}
    {%- if as_of not in ('', 'none', 'None', 'null') -%}
        {%- set parts = modules.re.fullmatch(
            '([0-9]{4})-([0-9]{2})-([0-9]{2})', as_of
        ) -%}
        {%- set valid = false -%}
        {%- if parts -%}
            {%- set year = parts.group(1) | int -%}
            {%- set month = parts.group(2) | int -%}
            {%- set day = parts.group(3) | int -%}
            {%- set leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) -%}
            {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31] -%}
            {%- set valid = year >= 1 and 1 <= month <= 12
                and 1 <= day <= month_days[month - 1] -%}
        {%- endif -%}
        {%- if not valid -%}
            {%- do problems.append(
                "Variable as_of_date must be a date written YYYY-MM-DD, got '"
                ~ as_of ~ "'. Pass e.g. --vars '{as_of_date: 2024-06-30}', "
                ~ "or leave it empty for the latest order date."
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- for name in [
        'identity_max_group_size', 'max_price_to_list_ratio',
        'association_min_support', 'association_min_confidence',
        'ticket_resolution_target_hours', 'churn_inactivity_days',
        'seasonal_min_holiday_orders', 'seasonal_min_holiday_share',
        'signal_overdue_factor', 'clv_horizon_months',
        'clv_monthly_discount_rate', 'clv_holdout_days',
        'churn_horizon_days', 'purchase_horizon_days',
        'segment_min_purchase_days', 'anomaly_magnitude_factor',
        'anomaly_return_p', 'recommendation_top_k',
        'recommendation_holdout_days', 'random_seed'
    ] -%}
        {%- set value = var(name) | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]+(\\.[0-9]+)?([eE]-?[0-9]+)?', value) -%}
            {%- do problems.append(
                "Variable " ~ name ~ " must be a non-negative number, got '"
                ~ value ~ "'."
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if raw_dir | trim == '' -%}
        {%- do problems.append(
            "raw_dir is empty: set CRM_RAW_DIR (or --vars '{raw_dir: ...}') "
            ~ "to the directory with your CSV/Parquet files."
        ) -%}
    {%- elif modules.re.search('[*?\\[\\]]', raw_dir) -%}
        {%- do problems.append(
            "raw_dir '" ~ raw_dir ~ "' contains * ? [ or ], which DuckDB "
            ~ "reads as a file pattern: move the files to a directory whose "
            ~ "path has none of them (or point CRM_RAW_DIR at a symlink)."
        ) -%}
    {%- endif -%}
{% endmacro %}
