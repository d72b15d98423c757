-- One row per scan of an offload experiment: from the first receiver status to the last write
-- of its data files at NCEM.
with

experiments as (
    select * from {{ ref('experiments') }}
    where workflow = 'offload'
),

receiver_scans as (
    select * from {{ ref('int_receiver_scans_summarised') }}
),

written_scans as (
    select * from {{ ref('int_ncem_scans_last_written') }}
),

offload_scans as (
    select
        receiver_scans.scan_number,
        experiments.scan_size,
        receiver_scans.first_status_at,
        written_scans.last_written_at,
        {{ seconds_between('receiver_scans.first_status_at', 'written_scans.last_written_at') }}
            as offload_s
    from receiver_scans
    inner join experiments
        on
            receiver_scans.scan_number
            between experiments.first_scan_number and experiments.last_scan_number
    inner join written_scans on receiver_scans.scan_number = written_scans.scan_number
)

select
    scan_number,
    scan_size,
    first_status_at,
    last_written_at,
    offload_s
from offload_scans
