{#- One row per association rule antecedent -> consequent between two
    products, and between two categories, found in the baskets of completed
    orders up to as_of_date. Metrics and their names follow mlxtend's
    association_rules; computed by a self-join of the baskets. -#}
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_completed

),

products as (

    select * from {{ ref('dim_products') }}

),

basket_items as (

    select distinct
        'product' as association_level,
        order_items.order_id,
        order_items.product_id as item
    from order_items

    union all

    select distinct
        'category' as association_level,
        order_items.order_id,
        products.category as item
    from order_items
    inner join products
        on order_items.product_id = products.product_id
    where products.category is not null

),

basket_counts as (

    select
        association_level,
        count(distinct order_id) as count_baskets
    from basket_items
    group by 1

),

item_counts as (

    select
        association_level,
        item,
        count(*) as count_item_baskets
    from basket_items
    group by 1, 2

),

pair_counts as (

    select
        antecedent_items.association_level,
        antecedent_items.item as antecedents,
        consequent_items.item as consequents,
        count(*) as count_pair_baskets
    from basket_items as antecedent_items
    inner join basket_items as consequent_items
        on
            antecedent_items.association_level
            = consequent_items.association_level
            and antecedent_items.order_id = consequent_items.order_id
            and antecedent_items.item <> consequent_items.item
    group by 1, 2, 3

),

supports as (

    select
        pair_counts.association_level,
        pair_counts.antecedents,
        pair_counts.consequents,
        basket_counts.count_baskets,
        pair_counts.count_pair_baskets,
        antecedent_counts.count_item_baskets / basket_counts.count_baskets
            as antecedent_support,
        consequent_counts.count_item_baskets / basket_counts.count_baskets
            as consequent_support,
        pair_counts.count_pair_baskets / basket_counts.count_baskets
            as support
    from pair_counts
    inner join basket_counts
        on pair_counts.association_level = basket_counts.association_level
    inner join item_counts as antecedent_counts
        on
            pair_counts.association_level = antecedent_counts.association_level
            and pair_counts.antecedents = antecedent_counts.item
    inner join item_counts as consequent_counts
        on
            pair_counts.association_level = consequent_counts.association_level
            and pair_counts.consequents = consequent_counts.item

),

rules as (

    select
        *,
        support / antecedent_support as confidence
    from supports
    where support >= {{ var('association_min_support') }}

),

metrics as (

    select
        association_level || ':' || antecedents || '->' || consequents
            as association_id,
        association_level,
        antecedents,
        consequents,
        count_baskets,
        count_pair_baskets,
        antecedent_support,
        consequent_support,
        support,
        confidence,
        confidence / consequent_support as lift,
        support - antecedent_support * consequent_support as leverage,
        case
            when confidence >= 1 then cast('infinity' as double)
            else (1 - consequent_support) / (1 - confidence)
        end as conviction,
        case
            when greatest(
                support * (1 - antecedent_support),
                antecedent_support * (consequent_support - support)
            ) = 0 then 0
            else
                (support - antecedent_support * consequent_support)
                / greatest(
                    support * (1 - antecedent_support),
                    antecedent_support * (consequent_support - support)
                )
        end as zhangs_metric,
        support / (antecedent_support + consequent_support - support)
            as jaccard,
        case
            when consequent_support >= 1 then 0
            else (confidence - consequent_support) / (1 - consequent_support)
        end as certainty,
        (confidence + support / consequent_support) / 2 as kulczynski
    from rules
    where confidence >= {{ var('association_min_confidence') }}

),

rounded as (

    {#- Rounded to 10 decimals: exact to the eye and in tests, free of
        float noise such as 0.7499999999999999. #}
    select
        association_id,
        association_level,
        antecedents,
        consequents,
        count_baskets,
        count_pair_baskets,
        round(antecedent_support, 10) as antecedent_support,
        round(consequent_support, 10) as consequent_support,
        round(support, 10) as support,
        round(confidence, 10) as confidence,
        round(lift, 10) as lift,
        round(leverage, 10) as leverage,
        round(conviction, 10) as conviction,
        round(zhangs_metric, 10) as zhangs_metric,
        round(jaccard, 10) as jaccard,
        round(certainty, 10) as certainty,
        round(kulczynski, 10) as kulczynski
    from metrics

)

select * from rounded
