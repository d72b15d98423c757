-- One row per time-to-data sample of either workflow, flagged when it is an IQR outlier of its
-- scan size and workflow: what the distributions and the statistics are drawn from.
-- File transfer: sacct Elapsed of the counting job + mean offload time of its size
-- - 2 x the save overhead of its size (the job saves, and the offload writes, the data once
-- more than streaming does). Streaming: the scan's latency.
with

count_jobs as (
    select * from {{ ref('fct_count_jobs') }}
),

offload as (
    select * from {{ ref('offload_by_size') }}
),

save_overhead as (
    select * from {{ ref('save_overhead_by_size') }}
),

streaming as (
    select * from {{ ref('fct_streaming_scans') }}
),

file_transfer_samples as (
    select
        count_jobs.scan_size,
        'file_transfer' as workflow,
        cast(count_jobs.job_id as {{ dbt.type_string() }})
        || '/' || cast(count_jobs.scan_id as {{ dbt.type_string() }}) as sample_key,
        count_jobs.elapsed_s + offload.mean_offload_s
        - 2 * save_overhead.save_overhead_s as time_to_data_s
    from count_jobs
    inner join offload on count_jobs.scan_size = offload.scan_size
    inner join save_overhead on count_jobs.scan_size = save_overhead.scan_size
),

streaming_samples as (
    select
        scan_size,
        'streaming' as workflow,
        cast(scan_number as {{ dbt.type_string() }}) as sample_key,
        latency_s as time_to_data_s
    from streaming
),

time_to_data_samples as (
    select * from file_transfer_samples
    union all
    select * from streaming_samples
),

time_to_data_flagged as (
    {{ flag_iqr_outliers('time_to_data_samples', 'time_to_data_s', ['scan_size', 'workflow']) }}
)

select
    workflow,
    scan_size,
    sample_key,
    time_to_data_s,
    is_outlier
from time_to_data_flagged
