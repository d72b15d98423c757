-- One row per scan of an offload experiment: from the first receiver status to the last write
-- of its data files at NCEM. Scans are acquisitions within the experiment's scan range and
-- days, so a later scan that reuses a number after a counter reset is not one of them.
with

acquisitions as (
    select * from {{ ref('int_experiment_acquisitions') }}
    where workflow = 'offload'
),

written_scans as (
    select * from {{ ref('int_ncem_scans_last_written') }}
),

offload_scans as (
    select
        acquisitions.scan_number,
        acquisitions.scan_size,
        acquisitions.first_status_at,
        written_scans.last_written_at,
        {{ seconds_between('acquisitions.first_status_at', 'written_scans.last_written_at') }}
            as offload_s
    from acquisitions
    inner join written_scans on acquisitions.acquisition_key = written_scans.acquisition_key
)

select
    scan_number,
    scan_size,
    first_status_at,
    last_written_at,
    offload_s
from offload_scans
