{#- One row: what decides whether this run refits the ML models or reuses
    their stored fits (crm_analytics.ml.schedule.refit_reason). A view, read
    when a fit model runs: the settings are those the on-run-start hook
    recorded for this invocation (record_run_settings) and the raw history
    that of this invocation's load, even when the run selects a fit model
    alone. -#}
{{ config(materialized='view') }}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

run_settings as (

    select * from {{ run_settings_relation() }}

),

final as (

    select
        as_of.as_of_date,
        run_settings.model_refit_days,
        run_settings.settings_digest,
        {{ raw_history_digest() }} as raw_history_digest
    from as_of
    cross join run_settings

)

select * from final
