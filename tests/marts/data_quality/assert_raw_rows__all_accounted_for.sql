{#- Every raw row, per raw table, appears exactly once in its triage model
    with a fate: the raw row numbers and the triaged row numbers are the
    same set. Independent of dq_row_reconciliation.

    For an incremental triage model (triaged_raw_tables' 'incremental'), the
    rows the latest run triaged (the latest triaged_at) are checked, with the
    raw rows after the last row an earlier run triaged: a full build
    triaged every row, so all are checked; a daily run checks its batch and
    the rows it re-triaged. The rows kept from before are those an earlier
    run's test checked: a run adds raw rows only at the end, and replaces
    the triaged rows it re-triages (delete+insert on source_row_number), so
    they stay as checked. A row re-triaged twice, or a raw row the run left
    out, fails here. A changed raw file rebuilds the model in full. -#}
{% for raw in triaged_raw_tables() %}
    {%- set triaged_model = ref(raw.model) -%}
    {%- if raw.incremental -%}
        {#- the last row triaged by an earlier run than the latest -#}
        {%- set kept_last -%}
            (
                select coalesce(max(source_row_number), 0)
                from {{ triaged_model }}
                where triaged_at < (select max(triaged_at) from {{ triaged_model }})
            )
        {%- endset -%}
        {#- rows of the latest run at or before it: re-triaged rows -#}
        {%- set retriaged -%}
            (
                select source_row_number
                from {{ triaged_model }}
                where
                    triaged_at = (select max(triaged_at) from {{ triaged_model }})
                    and source_row_number <= {{ kept_last }}
            )
        {%- endset -%}
    {%- endif %}
    select
        '{{ raw.table }}' as source_table,
        coalesce(raw_rows._row_number, triaged.source_row_number) as row_number,
        raw_rows._row_number is null as is_extra_in_triage,
        triaged.source_row_number is null as is_missing_from_triage,
        coalesce(triaged.count_fates, 0) as count_fates
    from (
        {%- if raw.incremental %}
            select _row_number from {{ source(raw.source, raw.table) }}
            where _row_number > {{ kept_last }}
            union all
            select _row_number from {{ source(raw.source, raw.table) }}
            where _row_number in {{ retriaged }}
        {%- else %}
            select _row_number from {{ source(raw.source, raw.table) }}
        {%- endif %}
    ) as raw_rows
    full outer join ( -- noqa: ST05
        select
            source_row_number,
            count(*) as count_fates
        from {{ triaged_model }}
        where
            row_status in ('kept', 'merged', 'quarantined')
            {%- if raw.incremental %}
                and (
                    source_row_number > {{ kept_last }}
                    or source_row_number in {{ retriaged }}
                )
            {%- endif %}
        group by 1
    ) as triaged
        on raw_rows._row_number = triaged.source_row_number
    where
        raw_rows._row_number is null
        or triaged.source_row_number is null
        or triaged.count_fates <> 1
    {% if not loop.last %}union all{% endif %}
{% endfor %}
