{#- Every raw shop account row with its fate (as for CRM contacts). -#}
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
