-- Queue time (start - submit) statistics of the counting jobs, with and without IQR outliers.
with

flagged as (
    select * from {{ ref('int_queue_times_flagged') }}
),

stats as (
    {{ statistics_with_and_without_outliers('flagged', 'queue_time_s') }}
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
