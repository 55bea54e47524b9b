"""Top products per buyer from item-based collaborative filtering on the
completed purchases up to as_of_date. Logic: crm_analytics.ml.recommend."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.recommend import recommend_products


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    purchases = (
        dbt.ref("fct_order_items")
        .filter("is_completed")
        .project("customer_id, product_id")
        .df()
    )
    return recommend_products(purchases, k=int(dbt.config.get("top_k")))
