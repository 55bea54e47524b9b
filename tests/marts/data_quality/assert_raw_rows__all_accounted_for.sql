{#- Every raw row, per raw table, appears exactly once in its triage model
    with a fate: the raw row numbers and the triaged row numbers are the
    same set. Independent of dq_row_reconciliation. -#}
{% for raw in triaged_raw_tables() %}
    select
        '{{ raw.table }}' as source_table,
        coalesce(raw_rows._row_number, triaged.source_row_number) as row_number,
        raw_rows._row_number is null as is_extra_in_triage,
        triaged.source_row_number is null as is_missing_from_triage,
        coalesce(triaged.count_fates, 0) as count_fates
    from {{ source(raw.source, raw.table) }} as raw_rows
    full outer join ( -- noqa: ST05
        select
            source_row_number,
            count(*) as count_fates
        from {{ ref(raw.model) }}
        where row_status in ('kept', 'merged', 'quarantined')
        group by 1
    ) as triaged
        on raw_rows._row_number = triaged.source_row_number
    where
        raw_rows._row_number is null
        or triaged.source_row_number is null
        or triaged.count_fates <> 1
    {% if not loop.last %}union all{% endif %}
{% endfor %}
