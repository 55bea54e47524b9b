{#- The source customer keys that other raw tables may reference: every CRM
    contact_id and shop account_id with at least one non-quarantined row. -#}
with

contacts as (

    select * from {{ ref('int_crm_contacts_validated') }}

),

accounts as (

    select * from {{ ref('int_shop_accounts_validated') }}

),

valid_keys as (

    select distinct
        'crm' as source_system,
        contact_id as source_customer_id
    from contacts
    where row_status <> 'quarantined'

    union all

    select distinct
        'shop' as source_system,
        account_id as source_customer_id
    from accounts
    where row_status <> 'quarantined'

)

select * from valid_keys
