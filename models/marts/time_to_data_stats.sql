-- Time-to-data statistics per scan size and workflow, with and without IQR outliers.
with

flagged as (
    select * from {{ ref('int_time_to_data_flagged') }}
),

outliers_included as (
    select
        scan_size,
        workflow,
        'included' as outliers,
        {{ summary_statistics('time_to_data_s') }}
    from flagged
    group by scan_size, workflow
),

outliers_removed as (
    select
        scan_size,
        workflow,
        'removed' as outliers,
        {{ summary_statistics('time_to_data_s') }}
    from flagged
    where not is_outlier
    group by scan_size, workflow
),

stats as (
    select * from outliers_included
    union all
    select * from outliers_removed
)

select
    scan_size,
    workflow,
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
