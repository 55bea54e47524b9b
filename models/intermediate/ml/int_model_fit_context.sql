{#- One row: what decides whether this run refits the ML models or reuses
    their stored fits (crm_analytics.ml.schedule.refit_reason). -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        as_of.as_of_date,
        cast({{ var('model_refit_days') }} as integer) as model_refit_days,
        {{ fit_settings_digest() }} as settings_digest,
        {{ raw_history_digest() }} as raw_history_digest
    from as_of

)

select * from final
