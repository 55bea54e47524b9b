{#- One row per quarantined raw row, from every raw table, with its reason
    and the file row it came from. -#}
with

{% for raw in triaged_raw_tables() %}
    {{ raw.table }} as (

        select
            '{{ raw.table }}' as source_table,
            cast({{ raw.key }} as varchar) as record_key,
            dq_reason,
            source_row_number
        from {{ ref(raw.model) }}
        where row_status = 'quarantined'

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
        *
    from all_quarantined

)

select * from final
