-- One row per scan of a streaming experiment: from the first receiver status at NCEM to the
-- counted file's write at NERSC. No abs(): a negative latency is a data error a test reports.
-- Scans are the acquisitions of the streaming experiments (int_experiment_acquisitions).
with

acquisitions as (
    select * from {{ ref('int_experiment_acquisitions') }}
    where workflow = 'streaming'
),

counted_files as (
    select * from {{ ref('int_acquisitions_joined_to_files') }}
    where file_kind = 'nersc_counted_file'
),

counted_in_order as (
    -- a scan counted more than once reached NERSC with its first counted file
    select
        acquisition_key,
        distiller_id,
        written_at,
        row_number() over (
            partition by acquisition_key order by written_at, distiller_id
        ) as counted_rank
    from counted_files
),

first_counted as (
    select
        acquisition_key,
        distiller_id,
        written_at
    from counted_in_order
    where counted_rank = 1
),

streaming_scans as (
    select
        acquisitions.scan_number,
        first_counted.distiller_id,
        acquisitions.scan_size,
        acquisitions.first_status_at,
        first_counted.written_at,
        {{ seconds_between('acquisitions.first_status_at', 'first_counted.written_at') }}
            as latency_s
    from acquisitions
    inner join first_counted on acquisitions.acquisition_key = first_counted.acquisition_key
)

select
    scan_number,
    distiller_id,
    scan_size,
    first_status_at,
    written_at,
    latency_s
from streaming_scans
