-- "90% of 512 x 512 scans are on the supercomputer within N s": the 90th percentile of time to
-- data per scan size and workflow, outliers included (what a user waits, bad days and all).
with

stats as (
    select * from {{ ref('time_to_data_stats') }}
),

within as (
    select
        scan_size,
        workflow,
        n,
        median_s,
        p90_s,
        p99_s
    from stats
    where outliers = 'included'
)

select * from within
order by scan_size, workflow
