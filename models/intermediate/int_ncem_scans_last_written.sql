-- One row per scan number: when its newest data file was last written at NCEM.
with

data_files as (
    select * from {{ ref('stg_ncem__data_files') }}
),

scans as (
    select
        scan_number,
        max(written_at) as last_written_at,
        count(*) as n_files
    from data_files
    group by scan_number
)

select * from scans
