-- Every time-to-data sample of both workflows, one column of seconds.
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

samples as (
    select * from file_transfer_samples
    union all
    select * from streaming_samples
)

select * from samples
