{#- Every raw product row with its fate: one kept row per product_id. -#}
with

products as (

    select * from {{ ref('stg_shop__products') }}

),

triaged as (

    {{ triage_rows('products', ['product_id'], 'source_row_number desc') }}

)

select * from triaged
