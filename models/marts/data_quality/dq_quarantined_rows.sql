{#- One row per quarantined raw row, from every raw table, with its reason
    (and detail, where the triage gives one) and the file and row it came
    from. source_file is the file's path under the raw directory, as the
    load records it (raw._source_file), so the mart does not change when the
    same files are read from another directory.
    load_batch is the batch file's name for a row of a load batch
    (`<table>/<batch>.csv`), NULL for the table's own file. -#}
with

{% for raw in triaged_raw_tables() %}
    {{ raw.table }} as (

        select
            '{{ raw.table }}' as source_table,
            triaged.record_key,
            triaged.dq_reason,
            triaged.dq_detail,
            raw_rows._source_file as source_file,
            triaged.source_row_number
        from (
            select
                cast({{ raw.key }} as varchar) as record_key,
                dq_reason,
                {{ raw.detail if raw.detail else 'null' }} as dq_detail,
                source_row_number
            from {{ ref(raw.model) }}
            where row_status = 'quarantined'
        ) as triaged
        left join {{ source(raw.source, raw.table) }} as raw_rows
            on triaged.source_row_number = raw_rows._row_number

    ),

{% endfor %}
all_quarantined as (

    {% for raw in triaged_raw_tables() %}
        select * from {{ raw.table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        source_table || ':' || source_row_number as quarantined_row_id,
        source_table,
        case
            when {{ looks_like_phone_key('record_key') }}
                then '[phone]'
            else {{ mask_pii('record_key', phones=false) }}
        end as record_key,
        dq_reason,
        {{ mask_pii('cast(dq_detail as varchar)') }} as dq_detail,
        source_file,
        case
            when
                regexp_extract(source_file, '([^/\\]+)[/\\][^/\\]+$', 1)
                = source_table
                then regexp_extract(source_file, '([^/\\]+)\.[^./\\]+$', 1)
        end as load_batch,
        source_row_number
    from all_quarantined

)

select * from final
