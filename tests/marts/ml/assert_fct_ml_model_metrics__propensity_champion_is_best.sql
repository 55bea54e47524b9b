{#- Champion against challengers, for churn and purchase_propensity: each
    model has exactly one published fitted row; when fitted, exactly one
    published candidate with a log loss, and no candidate recorded beside
    it has a lower log loss (the primary metric); a model that was not
    fitted publishes no scores. Returns the violations. -#}
with

metrics as (

    select * from {{ ref('fct_ml_model_metrics') }}
    where model_name in ('churn', 'purchase_propensity')

),

churn_scores as (

    select * from {{ ref('fct_customer_churn_scores') }}

),

purchase_scores as (

    select * from {{ ref('fct_customer_purchase_propensity') }}

),

scored_customers as (

    select
        'churn' as model_name,
        count(*) as count_scored
    from churn_scores
    union all
    select
        'purchase_propensity' as model_name,
        count(*) as count_scored
    from purchase_scores

),

fitted_rows as (

    select
        model_name,
        count(*) filter (where is_published) as published_fitted_rows,
        max(metric_value) filter (where is_published) as is_fitted
    from metrics
    where metric_name = 'fitted'
    group by 1

),

log_losses as (

    select
        model_name,
        candidate,
        is_published,
        metric_value as log_loss
    from metrics
    where metric_name = 'log_loss'

),

published_log_losses as (

    select
        model_name,
        count(*) as published_candidates,
        min(log_loss) as published_log_loss
    from log_losses
    where is_published
    group by 1

),

wrong_fitted_rows as (

    select
        models.model_name,
        'published fitted rows: '
        || coalesce(fitted_rows.published_fitted_rows, 0) as problem
    from (values ('churn'), ('purchase_propensity')) as models (model_name)
    left join fitted_rows
        on models.model_name = fitted_rows.model_name
    where coalesce(fitted_rows.published_fitted_rows, 0) <> 1

),

wrong_published_candidates as (

    select
        fitted_rows.model_name,
        'published candidates with a log loss: '
        || coalesce(published_log_losses.published_candidates, 0) as problem
    from fitted_rows
    left join published_log_losses
        on fitted_rows.model_name = published_log_losses.model_name
    where
        fitted_rows.is_fitted = 1
        and coalesce(published_log_losses.published_candidates, 0) <> 1

),

better_challengers as (

    select
        log_losses.model_name,
        log_losses.candidate || ' has a lower log loss ('
        || log_losses.log_loss || ') than the published one ('
        || published_log_losses.published_log_loss || ')' as problem
    from log_losses
    inner join published_log_losses
        on log_losses.model_name = published_log_losses.model_name
    where log_losses.log_loss < published_log_losses.published_log_loss

),

scores_without_a_model as (

    select
        fitted_rows.model_name,
        'not fitted, yet ' || scored_customers.count_scored
        || ' customers scored' as problem
    from fitted_rows
    inner join scored_customers
        on fitted_rows.model_name = scored_customers.model_name
    where fitted_rows.is_fitted = 0 and scored_customers.count_scored > 0

),

violations as (

    select * from wrong_fitted_rows
    union all
    select * from wrong_published_candidates
    union all
    select * from better_challengers
    union all
    select * from scores_without_a_model

)

select * from violations
