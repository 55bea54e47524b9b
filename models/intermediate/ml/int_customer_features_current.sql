{#- The current snapshot of int_customer_feature_snapshots (cutoff
    as_of_date): what the marts and the segment model read on every run.
    A table, so that this snapshot is computed once per run and the
    labelled ones (a view's other rows) only when a refit reads them. -#}
select * from {{ ref('int_customer_feature_snapshots') }}
where snapshot_name = 'current'
