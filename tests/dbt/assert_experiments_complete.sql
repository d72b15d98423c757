-- An experiment of the seed with fewer measured scans than its scan range holds: scans lost on
-- the way (not written, not counted) or inputs not loaded.
{{ config(severity='warn') }}

with

experiments as (
    select * from {{ ref('experiments') }}
),

measured as (
    select scan_number from {{ ref('fct_offload_scans') }}
    union all
    select scan_number from {{ ref('fct_streaming_scans') }}
),

counted as (
    select
        experiments.experiment_id,
        experiments.last_scan_number - experiments.first_scan_number + 1 as n_expected,
        count(measured.scan_number) as n_measured
    from experiments
    left join measured
        on
            measured.scan_number
            between experiments.first_scan_number and experiments.last_scan_number
    group by
        experiments.experiment_id,
        experiments.first_scan_number,
        experiments.last_scan_number
)

select
    experiment_id,
    n_expected,
    n_measured
from counted
where n_measured < n_expected
