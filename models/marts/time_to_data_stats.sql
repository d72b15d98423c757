-- Time-to-data statistics per scan size and workflow, with and without IQR outliers.
with

flagged as (
    select * from {{ ref('fct_time_to_data') }}
),

stats as (
    {{ statistics_with_and_without_outliers(
        'flagged', 'time_to_data_s', ['scan_size', 'workflow']
    ) }}
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
