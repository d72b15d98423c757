-- Each data file written at NCEM and each counted file at NERSC, matched to the acquisition of
-- its scan number that it follows: from var acquisition_slack_s before the acquisition's first
-- status until just before the next acquisition of the same number. A file never joins an
-- acquisition across a counter reset.
with

acquisitions as (
    select * from {{ ref('int_receiver_scans_summarised') }}
),

data_files as (
    select * from {{ ref('stg_ncem__data_files') }}
),

counted_files as (
    select * from {{ ref('stg_nersc__counted_files') }}
),

files as (
    select
        'ncem_data_file' as file_kind,
        scan_number,
        cast(null as {{ dbt.type_int() }}) as distiller_id,
        written_at
    from data_files
    union all
    select
        'nersc_counted_file' as file_kind,
        scan_number,
        distiller_id,
        written_at
    from counted_files
),

matched as (
    select
        files.file_kind,
        acquisitions.acquisition_key,
        acquisitions.scan_number,
        files.distiller_id,
        files.written_at
    from files
    inner join acquisitions
        on
            files.scan_number = acquisitions.scan_number
            and files.written_at >= {{ add_seconds(
                'acquisitions.first_status_at', -var('acquisition_slack_s')
            ) }}
            and (
                acquisitions.next_first_status_at is null
                or files.written_at < {{ add_seconds(
                    'acquisitions.next_first_status_at', -var('acquisition_slack_s')
                ) }}
            )
)

select * from matched
