-- Each data file written at NCEM and each counted file at NERSC, matched to the acquisition of
-- its scan number that it follows: from var acquisition_slack_s before the acquisition's first
-- status until just before the next acquisition of the same number. A file never joins an
-- acquisition across a counter reset.
-- Incremental by scan number: a build redoes the scan numbers whose acquisitions, data files or
-- counted files changed (see macros/incremental.sql); files only join acquisitions of their
-- own scan number.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='scan_number',
    on_schema_change='fail',
    pre_hook=[
        "{{ turnaround.keep_current_fingerprints(turnaround.acquisition_file_inputs()) }}",
        "{{ turnaround.delete_changed_partitions('scan_number') }}",
    ],
    post_hook=[
        "{{ turnaround.forget_stale_partitions() }}",
        "{{ turnaround.record_partitions() }}",
    ],
) }}
-- depends_on: {{ source('raw', 'ncem_data_files') }}
-- depends_on: {{ source('raw', 'nersc_counted_files') }}
{%- set changed_scans = turnaround.changed_partitions_condition(
    'scan_number', turnaround.acquisition_file_inputs(), key_is_number=true
) %}
with

acquisitions as (
    select * from {{ ref('int_receiver_scans_summarised') }}
    where {{ changed_scans }}
),

data_files as (
    select * from {{ ref('stg_ncem__data_files') }}
    where {{ changed_scans }}
),

counted_files as (
    select * from {{ ref('stg_nersc__counted_files') }}
    where {{ changed_scans }}
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
            and files.written_at >= {{ dbt.dateadd(
                'second', -var('acquisition_slack_s'), 'acquisitions.first_status_at'
            ) }}
            and (
                acquisitions.next_first_status_at is null
                or files.written_at < {{ dbt.dateadd(
                    'second', -var('acquisition_slack_s'), 'acquisitions.next_first_status_at'
                ) }}
            )
)

select * from matched
