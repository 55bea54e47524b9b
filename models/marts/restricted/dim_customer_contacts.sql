{#- Personal data of each resolved customer, for identity checks and
    campaigns: stays in the build file (schema restricted), never published
    to the serving file that BI reads. -#}
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

email_hashes as (

    select * from {{ ref('int_customer_email_hashes') }}

),

final as (

    select
        profiles.customer_id,
        email_hashes.email_hash,
        profiles.first_name,
        profiles.last_name,
        profiles.full_name,
        profiles.email,
        profiles.phone,
        profiles.street_address,
        profiles.city,
        profiles.postal_code,
        profiles.country_code,
        profiles.birth_date,
        profiles.has_marketing_consent
    from profiles
    left join email_hashes
        on profiles.customer_id = email_hashes.customer_id

)

select * from final
