{#- Checks the settings a user gives (dbt variables and raw_dir) before
    anything is read, appending one line per bad value to `problems`:
    as_of_date must be a real YYYY-MM-DD date, the numeric variables
    numbers within their bounds (they are spliced into SQL), and raw_dir a path
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
    {#- The same bounds as crm_analytics.settings.NUMERIC_SETTINGS (the
        publish checks them before dbt starts; this is for a bare dbt build;
        tests/python/test_hostile_setting.py keeps the two equal). -#}
    {%- set bounds = {
        'identity_max_group_size': ['int', 1, 1000],
        'max_price_to_list_ratio': ['number', 1, 1000000],
        'max_quarantine_share': ['number', 0, 1],
        'association_min_support': ['number', 0, 1000],
        'association_min_confidence': ['number', 0, 1],
        'ticket_resolution_target_hours': ['number', 1, 8760],
        'churn_inactivity_days': ['int', 1, 3660],
        'seasonal_min_holiday_orders': ['int', 0, 1000000],
        'seasonal_min_holiday_share': ['number', 0, 1],
        'signal_overdue_factor': ['number', 1, 100],
        'clv_horizon_months': ['int', 1, 120],
        'clv_monthly_discount_rate': ['number', 0, 1],
        'clv_holdout_days': ['int', 1, 3660],
        'churn_horizon_days': ['int', 1, 3660],
        'purchase_horizon_days': ['int', 1, 3660],
        'segment_min_purchase_days': ['int', 1, 1000],
        'anomaly_magnitude_factor': ['number', 1, 1000],
        'anomaly_return_p': ['number', 0, 1],
        'recommendation_top_k': ['int', 1, 1000],
        'recommendation_holdout_days': ['int', 1, 3660],
        'recommendation_min_buyers': ['int', 1, 1000000000],
        'recommendation_min_evaluation_customers': ['int', 1, 1000000000],
        'random_seed': ['int', 0, 4294967295]
    } -%}
    {%- for name, bound in bounds.items() -%}
        {%- set value = var(name) | string | trim -%}
        {%- set kind = 'a whole number' if bound[0] == 'int' else 'a number' -%}
        {%- set valid = modules.re.fullmatch(
            '[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?', value
        ) is not none -%}
        {%- if valid -%}
            {%- set number = value | float -%}
            {%- set valid = bound[1] <= number <= bound[2]
                and (bound[0] != 'int' or number % 1 == 0) -%}
        {%- endif -%}
        {%- if not valid -%}
            {%- do problems.append(
                "Variable " ~ name ~ " must be " ~ kind ~ " from "
                ~ bound[1] ~ " to " ~ bound[2] ~ ", got '" ~ value[:80] ~ "'."
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
