-- Queue time (start - submit) statistics of the counting jobs, with and without IQR outliers
-- (Tukey's rule over all jobs).
with

count_jobs as (
    select * from {{ ref('fct_count_jobs') }}
),

queue_times_flagged as (
    {{ flag_iqr_outliers('count_jobs', 'queue_time_s') }}
),

stats as (
    {{ statistics_with_and_without_outliers('queue_times_flagged', 'queue_time_s') }}
)

select
    outliers,
    n,
    mean_s,
    std_s,
    median_s,
    min_s,
    max_s,
    p25_s,
    p75_s,
    p90_s,
    p99_s
from stats
