{#- The quarantine mart holds exactly the rows the triage quarantined, per
    table. -#}
with

reconciliation as (

    select * from {{ ref('dq_row_reconciliation') }}

),

quarantined as (

    select * from {{ ref('dq_quarantined_rows') }}

),

quarantined_counts as (

    select
        source_table,
        count(*) as count_rows
    from quarantined
    group by 1

)

select
    reconciliation.source_table,
    reconciliation.count_quarantined,
    coalesce(quarantined_counts.count_rows, 0) as count_in_quarantine
from reconciliation
left join quarantined_counts
    on reconciliation.source_table = quarantined_counts.source_table
where
    reconciliation.count_quarantined
    <> coalesce(quarantined_counts.count_rows, 0)
