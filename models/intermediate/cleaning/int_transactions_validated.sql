{#- Every raw transaction row with its fate. Transactions have no row key:
    every valid row is kept (two identical purchases can be real). -#}
with

transactions as (

    select * from {{ ref('stg_transactions__transactions') }}

),

triaged as (

    {{ triage_rows(
        'transactions', ['source_row_number'], 'source_row_number'
    ) }}

)

select * from triaged
