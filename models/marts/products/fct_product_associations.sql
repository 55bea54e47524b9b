{#- One row per association rule antecedent -> consequent between two
    products, and between two categories, found in the baskets of completed
    orders up to as_of_date. Metrics and their names follow mlxtend's
    association_rules; computed by a self-join of the baskets on integer
    keys, each unordered pair once, items below the minimum support left
    out first. -#}
with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}
    where is_completed

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

items as (

    {#- Every item of both levels with an integer key: the products and
        their categories. -#}
    select
        'product' as association_level,
        product_id as item,
        row_number() over (order by product_id) as item_key
    from products

    union all

    select
        'category' as association_level,
        category as item,
        row_number() over (order by category) as item_key
    from (
        select distinct category
        from products
        where category is not null
    ) as categories

),

basket_items as (

    {#- A basket is an order (its integer order_row_number); an item counts once
        per basket. -#}
    select distinct
        product_items.association_level,
        order_items.order_row_number as basket_key,
        product_items.item_key
    from order_items
    inner join items as product_items
        on
            product_items.association_level = 'product'
            and order_items.product_id = product_items.item

    union all

    select distinct
        category_items.association_level,
        order_items.order_row_number as basket_key,
        category_items.item_key
    from order_items
    inner join products
        on order_items.product_id = products.product_id
    inner join items as category_items
        on
            category_items.association_level = 'category'
            and products.category = category_items.item

),

basket_counts as (

    select
        association_level,
        count(distinct basket_key) as count_baskets
    from basket_items
    group by 1

),

item_counts as (

    {#- An item in fewer baskets than the minimum support cannot be in a
        pair that reaches it: such items are left out before the self-join
        (apriori's pruning). -#}
    select
        basket_items.association_level,
        basket_items.item_key,
        basket_counts.count_baskets,
        count(*) as count_item_baskets
    from basket_items
    inner join basket_counts
        on basket_items.association_level = basket_counts.association_level
    group by 1, 2, 3
    having
        count(*) >= {{ var('association_min_support') }}
        * basket_counts.count_baskets

),

frequent_basket_items as (

    select basket_items.*
    from basket_items
    inner join item_counts
        on
            basket_items.association_level = item_counts.association_level
            and basket_items.item_key = item_counts.item_key

),

unordered_pair_counts as (

    {#- Each pair once (the lower key first); both rules come from it. -#}
    select
        lower_items.association_level,
        lower_items.item_key as lower_key,
        higher_items.item_key as higher_key,
        count(*) as count_pair_baskets
    from frequent_basket_items as lower_items
    inner join frequent_basket_items as higher_items
        on
            lower_items.association_level = higher_items.association_level
            and lower_items.basket_key = higher_items.basket_key
            and lower_items.item_key < higher_items.item_key
    group by 1, 2, 3

),

pair_counts as (

    select
        association_level,
        lower_key as antecedent_key,
        higher_key as consequent_key,
        count_pair_baskets
    from unordered_pair_counts

    union all

    select
        association_level,
        higher_key as antecedent_key,
        lower_key as consequent_key,
        count_pair_baskets
    from unordered_pair_counts

),

named_item_counts as (

    select
        item_counts.*,
        items.item
    from item_counts
    inner join items
        on
            item_counts.association_level = items.association_level
            and item_counts.item_key = items.item_key

),

supports as (

    select
        pair_counts.association_level,
        antecedent_counts.item as antecedents,
        consequent_counts.item as consequents,
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
    inner join named_item_counts as antecedent_counts
        on
            pair_counts.association_level = antecedent_counts.association_level
            and pair_counts.antecedent_key = antecedent_counts.item_key
    inner join named_item_counts as consequent_counts
        on
            pair_counts.association_level = consequent_counts.association_level
            and pair_counts.consequent_key = consequent_counts.item_key

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
