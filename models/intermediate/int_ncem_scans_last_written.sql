-- One row per acquisition with data files at NCEM: when its newest data file was last written.
with

files as (
    select * from {{ ref('int_acquisitions_joined_to_files') }}
    where file_kind = 'ncem_data_file'
),

scans as (
    select
        acquisition_key,
        max(written_at) as last_written_at,
        count(*) as n_files
    from files
    group by acquisition_key
)

select * from scans
