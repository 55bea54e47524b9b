{#- One row per association rule antecedent -> consequent between two
    products, and between two categories, found in the baskets of completed
    orders up to as_of_date (int_order_baskets). Metrics and their names
    follow mlxtend's association_rules. Counted over the distinct item sets
    of the baskets, each unordered pair of frequent items once. -#}
with

baskets as (

    select * from {{ ref('int_order_baskets') }}

),

items as (

    {{ association_items(ref('int_products_validated')) }}

),

basket_sets as (

    {#- Each distinct set of items with the number of baskets that hold
        exactly it: baskets share few sets (at 1M customers, 8.7M baskets
        hold 1.5M product sets), so every later count reads fewer rows. -#}
    select
        'product' as association_level,
        product_keys as item_keys,
        count(*) as count_set_baskets
    from baskets
    group by 1, 2

    union all

    select
        'category' as association_level,
        category_keys as item_keys,
        count(*) as count_set_baskets
    from baskets
    where len(category_keys) > 0
    group by 1, 2

),

basket_counts as (

    select
        association_level,
        cast(sum(count_set_baskets) as bigint) as count_baskets
    from basket_sets
    group by 1

),

set_items as (

    select
        association_level,
        count_set_baskets,
        unnest(item_keys) as item_key
    from basket_sets

),

item_counts as (

    {#- An item in fewer baskets than the minimum support cannot be in a
        pair that reaches it: such items are left out before the pairs are
        formed (apriori's pruning). -#}
    select
        set_items.association_level,
        set_items.item_key,
        basket_counts.count_baskets,
        cast(sum(set_items.count_set_baskets) as bigint) as count_item_baskets
    from set_items
    inner join basket_counts
        on set_items.association_level = basket_counts.association_level
    group by 1, 2, 3
    having
        sum(set_items.count_set_baskets)
        >= {{ var('association_min_support') }} * basket_counts.count_baskets

),

frequent_flags as (

    {#- Per level, a list indexed by item key (keys run from 1 up): true
        for a frequent item. -#}
    select
        items.association_level,
        list(
            item_counts.item_key is not null order by items.item_key
        ) as is_frequent
    from items
    left join item_counts
        on
            items.association_level = item_counts.association_level
            and items.item_key = item_counts.item_key
    group by 1

),

frequent_sets as (

    select
        basket_sets.association_level,
        basket_sets.count_set_baskets,
        list_filter(
            basket_sets.item_keys,
            item_key -> frequent_flags.is_frequent[item_key]
        ) as item_keys
    from basket_sets
    inner join frequent_flags
        on basket_sets.association_level = frequent_flags.association_level

),

set_pairs as (

    {#- Each unordered pair of a set once, the lower key first (the keys
        of a set are sorted and distinct). -#}
    select
        association_level,
        count_set_baskets,
        unnest(
            flatten(
                list_transform(
                    item_keys,
                    lower_key -> list_transform(
                        list_filter(
                            item_keys, higher_key -> higher_key > lower_key
                        ),
                        higher_key -> {
                            'lower_key': lower_key, 'higher_key': higher_key
                        }
                    )
                )
            )
        ) as pair
    from frequent_sets
    where len(item_keys) > 1

),

unordered_pair_counts as (

    select
        set_pairs.association_level,
        set_pairs.pair.lower_key,
        set_pairs.pair.higher_key,
        cast(sum(set_pairs.count_set_baskets) as bigint) as count_pair_baskets
    from set_pairs
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
            as support,
        {#- From the counts, not sAC / sA as mlxtend: a rule exactly at the
            minimum confidence (16 of 320 baskets at 0.05) is then kept,
            where the ratio of two rounded supports can fall just below. -#}
        pair_counts.count_pair_baskets / antecedent_counts.count_item_baskets
            as confidence
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

    select *
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
