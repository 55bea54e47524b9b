{#- The snapshots of int_customer_feature_snapshots and
    int_customer_category_snapshots: one row per snapshot with its cutoff
    date and horizon. `current` cuts at as_of_date (no horizon); each
    propensity model has a _train snapshot whose horizon ends at
    as_of_date - horizon and a _test snapshot whose horizon ends at
    as_of_date. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    {%- set horizons = {
        'churn': var('churn_horizon_days'),
        'purchase': var('purchase_horizon_days'),
    } %}

    select
        'current' as snapshot_name,
        as_of_date as cutoff_date,
        cast(null as integer) as horizon_days
    from as_of
    {%- for model_name, horizon in horizons.items() %}

        union all

        select
            '{{ model_name }}_train' as snapshot_name,
            cast(as_of_date - 2 * {{ horizon }} as date) as cutoff_date,
            {{ horizon }} as horizon_days
        from as_of

        union all

        select
            '{{ model_name }}_test' as snapshot_name,
            cast(as_of_date - {{ horizon }} as date) as cutoff_date,
            {{ horizon }} as horizon_days
        from as_of
    {%- endfor %}

)

select * from final
