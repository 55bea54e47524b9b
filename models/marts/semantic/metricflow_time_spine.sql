{#- The MetricFlow time spine: one row per day from 2000-01-01 to
    2039-12-31, so metrics can be grouped by day, week, month or year. -#}
with

days as (

    select cast(range as date) as date_day
    from range(date '2000-01-01', date '2040-01-01', interval 1 day)

)

select * from days
