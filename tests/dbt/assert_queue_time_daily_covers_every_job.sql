-- Every counting job is counted in exactly one submit day: the daily table loses none.
{{ config(severity='error') }}

with

daily as (
    select coalesce(sum(n_jobs), 0) as n_jobs from {{ ref('queue_time_daily') }}
),

jobs as (
    select count(*) as n_jobs from {{ ref('fct_count_jobs') }}
)

select
    daily.n_jobs as jobs_in_daily,
    jobs.n_jobs as jobs_in_fact
from daily
cross join jobs
where daily.n_jobs <> jobs.n_jobs
