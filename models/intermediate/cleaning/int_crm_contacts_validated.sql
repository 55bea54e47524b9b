{#- Every raw CRM contact row with its fate: kept (one per contact_id, the
    latest update wins), merged (an older or identical copy) or quarantined. -#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

triaged as (

    {{ triage_rows(
        'contacts',
        ['contact_id'],
        'updated_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
