-- Mean queue time of the counting jobs per facility-local submit day, worst first.
with

count_jobs as (
    select * from {{ ref('fct_count_jobs') }}
),

jobs_with_dates as (
    select
        {{ utc_to_local_date('submitted_at') }} as submit_date,
        queue_time_s
    from count_jobs
),

by_day as (
    select
        submit_date,
        count(*) as n_jobs,
        {{ turnaround.ordered_avg('queue_time_s') }} as mean_queue_time_s,
        max(queue_time_s) as max_queue_time_s
    from jobs_with_dates
    group by submit_date
),

ranked as (
    select
        submit_date,
        {{ dbt.date_trunc('month', 'submit_date') }} as submit_month,
        n_jobs,
        mean_queue_time_s,
        max_queue_time_s,
        -- bigint on every engine (Spark's rank() is an int)
        cast(
            rank() over (order by mean_queue_time_s desc) as {{ dbt.type_bigint() }}
        ) as queue_time_rank,
        cast(
            rank() over (
                partition by {{ dbt.date_trunc('month', 'submit_date') }}
                order by mean_queue_time_s desc
            ) as {{ dbt.type_bigint() }}
        ) as queue_time_rank_in_month
    from by_day
)

select
    submit_date,
    cast(submit_month as date) as submit_month,
    n_jobs,
    mean_queue_time_s,
    max_queue_time_s,
    queue_time_rank,
    queue_time_rank_in_month
from ranked
