-- The acquisitions that belong to an experiment of the seed: scan number within its range and
-- first status on its days (a reused number after a counter reset is not one of them).
with

experiments as (
    select * from {{ ref('experiments') }}
),

acquisitions as (
    select * from {{ ref('int_receiver_scans_summarised') }}
),

experiment_acquisitions as (
    select
        experiments.experiment_id,
        experiments.workflow,
        experiments.scan_size,
        acquisitions.acquisition_key,
        acquisitions.scan_number,
        acquisitions.first_status_at
    from acquisitions
    inner join experiments
        on
            acquisitions.scan_number
            between experiments.first_scan_number and experiments.last_scan_number
            and {{ utc_to_local_date('acquisitions.first_status_at') }}
            between experiments.first_acquired_on and experiments.last_acquired_on
)

select * from experiment_acquisitions
