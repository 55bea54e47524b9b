{#- One row per raw table: rows read from the file, and how many were kept,
    merged into another row (duplicates) or quarantined. rows_in is counted
    from the raw table itself, independently of the triage. -#}
with

{% for raw in triaged_raw_tables() %}
    {{ raw.table }} as (

        select
            '{{ raw.table }}' as source_table,
            (select count(*) from {{ source(raw.source, raw.table) }})
                as count_rows_in,
            count(*) filter (where row_status = 'kept') as count_kept,
            count(*) filter (where row_status = 'merged') as count_merged,
            count(*) filter (where row_status = 'quarantined')
                as count_quarantined
        from {{ ref(raw.model) }}

    ),

{% endfor %}
all_tables as (

    {% for raw in triaged_raw_tables() %}
        select * from {{ raw.table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        *,
        count_rows_in
        = count_kept + count_merged + count_quarantined as is_reconciled
    from all_tables

)

select * from final
