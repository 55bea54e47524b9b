{#- Every raw shop account row with its fate (see int_crm_contacts_validated). -#}
with

accounts as (

    select * from {{ ref('stg_shop__accounts') }}

),

triaged as (

    {{ triage_rows(
        'accounts',
        ['account_id'],
        'updated_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
