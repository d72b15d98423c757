-- An experiment of the seed with no measured scan: its inputs were not loaded, or the seed's
-- scan range is wrong.
{{ config(severity='warn') }}

with

experiments as (
    select * from {{ ref('experiments') }}
),

measured as (
    select scan_number from {{ ref('fct_offload_scans') }}
    union all
    select scan_number from {{ ref('fct_streaming_scans') }}
)

select experiments.experiment_id
from experiments
left join measured
    on
        measured.scan_number
        between experiments.first_scan_number and experiments.last_scan_number
group by experiments.experiment_id
having count(measured.scan_number) = 0
