-- One row per scan of a streaming experiment: from the first receiver status at NCEM to the
-- counted file's write at NERSC. No abs(): a negative latency is a data error a test reports.
with

experiments as (
    select * from {{ ref('experiments') }}
    where workflow = 'streaming'
),

receiver_scans as (
    select * from {{ ref('int_receiver_scans_summarised') }}
),

counted_files as (
    select * from {{ ref('stg_nersc__counted_files') }}
),

counted_in_order as (
    -- a scan counted more than once reached NERSC with its first counted file
    select
        scan_number,
        distiller_id,
        written_at,
        row_number() over (
            partition by scan_number order by written_at, distiller_id
        ) as counted_rank
    from counted_files
),

first_counted as (
    select
        scan_number,
        distiller_id,
        written_at
    from counted_in_order
    where counted_rank = 1
),

streaming_scans as (
    select
        first_counted.scan_number,
        first_counted.distiller_id,
        experiments.scan_size,
        receiver_scans.first_status_at,
        first_counted.written_at,
        {{ seconds_between('receiver_scans.first_status_at', 'first_counted.written_at') }}
            as latency_s
    from first_counted
    inner join experiments
        on
            first_counted.scan_number
            between experiments.first_scan_number and experiments.last_scan_number
    inner join receiver_scans on first_counted.scan_number = receiver_scans.scan_number
)

select
    scan_number,
    distiller_id,
    scan_size,
    first_status_at,
    written_at,
    latency_s
from streaming_scans
