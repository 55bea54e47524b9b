"""Top products per buyer from item-based collaborative filtering on the
completed purchases up to as_of_date, counted per customer x product in
int_customer_product_purchases. Logic: crm_analytics.ml.recommend."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.recommend import recommend_products


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    purchases = (
        dbt.ref("int_customer_product_purchases")
        .project("customer_id, product_id, count_lines")
        .df()
    )
    return recommend_products(purchases, k=int(dbt.config.get("top_k")))
