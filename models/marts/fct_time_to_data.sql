-- One row per time-to-data sample of either workflow, flagged when it is an IQR outlier of its
-- scan size and workflow: what the distributions and the statistics are drawn from.
with

flagged as (
    select * from {{ ref('int_time_to_data_flagged') }}
)

select
    workflow,
    scan_size,
    sample_key,
    time_to_data_s,
    is_outlier
from flagged
