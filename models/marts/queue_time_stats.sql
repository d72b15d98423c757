-- Queue time (start - submit) statistics of the counting jobs, with and without IQR outliers.
with

flagged as (
    select * from {{ ref('int_queue_times_flagged') }}
),

outliers_included as (
    select
        'included' as outliers,
        {{ summary_statistics('queue_time_s') }}
    from flagged
),

outliers_removed as (
    select
        'removed' as outliers,
        {{ summary_statistics('queue_time_s') }}
    from flagged
    where not is_outlier
),

stats as (
    select * from outliers_included
    union all
    select * from outliers_removed
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
