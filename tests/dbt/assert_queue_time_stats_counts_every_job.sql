-- The queue-time statistics with outliers included count every job of fct_count_jobs exactly
-- once: flagging the outliers neither drops nor repeats a job.
{{ config(severity='error') }}

with

stats as (
    select n from {{ ref('queue_time_stats') }}
    where outliers = 'included'
),

jobs as (
    select count(*) as n_jobs from {{ ref('fct_count_jobs') }}
)

select
    stats.n as jobs_in_stats,
    jobs.n_jobs as jobs_in_fact
from stats
cross join jobs
where stats.n <> jobs.n_jobs
