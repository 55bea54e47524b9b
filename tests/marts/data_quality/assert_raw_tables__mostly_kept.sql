{#- A build that loses most of a table fails loudly: one row per raw table
    of which more than var max_quarantine_share of the rows
    were quarantined, with its top reasons and an example row of each
    (file and row number). Typical causes: a file in another layout, a
    status seeds/order_status_map.csv does not know, dates in another
    convention. -#}
{{ config(severity='error') }}

with

reconciliation as (

    select * from {{ ref('dq_row_reconciliation') }}

),

quarantined as (

    select * from {{ ref('dq_quarantined_rows') }}

),

lossy_tables as (

    select
        source_table,
        count_rows_in,
        count_quarantined,
        round(count_quarantined / count_rows_in, 4) as pct_quarantined
    from reconciliation
    where
        count_rows_in > 0
        and count_quarantined
        > {{ var('max_quarantine_share') }} * count_rows_in

),

reasons as (

    select
        quarantined.source_table,
        quarantined.dq_reason,
        count(*) as count_rows,
        {#- an example: the first row of the reason, with its detail -#}
        arg_min(
            quarantined.source_file || ' row '
            || quarantined.source_row_number
            || coalesce(' (' || quarantined.dq_detail || ')', ''),
            quarantined.source_row_number
        ) as example_row
    from quarantined
    inner join lossy_tables
        on quarantined.source_table = lossy_tables.source_table
    group by 1, 2

),

ranked_reasons as (

    select
        *,
        row_number() over (
            partition by source_table order by count_rows desc, dq_reason asc
        ) as reason_rank
    from reasons

)

select
    lossy_tables.source_table,
    lossy_tables.count_rows_in,
    lossy_tables.count_quarantined,
    lossy_tables.pct_quarantined,
    string_agg(
        ranked_reasons.dq_reason || ': ' || ranked_reasons.count_rows
        || ' rows, e.g. ' || ranked_reasons.example_row,
        '; '
        order by ranked_reasons.reason_rank
    ) as top_reasons
from lossy_tables
inner join ranked_reasons
    on lossy_tables.source_table = ranked_reasons.source_table
where ranked_reasons.reason_rank <= 3
group by 1, 2, 3, 4
