-- Offload time statistics per scan size over the offload experiments.
with

offload_scans as (
    select * from {{ ref('fct_offload_scans') }}
),

by_size as (
    select
        scan_size,
        count(*) as n_scans,
        {{ turnaround.ordered_avg('offload_s') }} as mean_offload_s,
        {{ turnaround.ordered_stddev_samp('offload_s') }} as std_offload_s,
        min(offload_s) as min_offload_s,
        max(offload_s) as max_offload_s
    from offload_scans
    group by scan_size
)

select
    scan_size,
    n_scans,
    mean_offload_s,
    std_offload_s,
    min_offload_s,
    max_offload_s
from by_size
