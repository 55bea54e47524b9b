{#- Post-hook of fct_ml_model_metrics: one warning line in the build log per
    listed model whose published `fitted` row is 0, with the row's reason.
    For the models fitted in SQL (associations, anomalies); the Python
    models print their own line when they find they cannot fit. Renders no
    SQL. -#}
{% macro warn_not_fitted(model_names) -%}
    {%- if execute -%}
        {%- set names -%}
            {%- for name in model_names -%}
                '{{ name }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        {%- endset -%}
        {%- set not_fitted = run_query(
            "select model_name, coalesce(note, 'no reason recorded') "
            ~ "from " ~ this ~ " where metric_name = 'fitted' "
            ~ "and metric_value = 0 and is_published "
            ~ "and model_name in (" ~ names ~ ") order by model_name"
        ) -%}
        {%- for row in not_fitted.rows -%}
            {%- do exceptions.warn("WARNING " ~ row[0] ~ " not fitted: " ~ row[1]) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
