-- One row per source of the seed freshness_levels: the newest event time its records hold, for
-- `turnaround check` to hold against the clock at check time (this mart knows no clock). The
-- event of a record: a Slurm job's submit, a receiver status, a file's mtime at either end, a
-- stempy run; a Distiller (scan, job) pair carries no time of its own, so it is its Slurm job's
-- submit (exports that stop while sacct goes on grow stale). NULL: no record of the source.
with

levels as (
    select * from {{ ref('freshness_levels') }}
),

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

scan_jobs as (
    select * from {{ ref('stg_distiller__scan_jobs') }}
),

statuses as (
    select * from {{ ref('stg_ncem__receiver_statuses') }}
),

data_files as (
    select * from {{ ref('stg_ncem__data_files') }}
),

counted_files as (
    select * from {{ ref('stg_nersc__counted_files') }}
),

stempy_runs as (
    select * from {{ ref('stg_stempy__runs') }}
),

record_times as (
    select
        'slurm' as source_name,
        submitted_at as record_at
    from jobs
    union all
    select
        'distiller_db' as source_name,
        jobs.submitted_at as record_at
    from scan_jobs
    inner join jobs on scan_jobs.slurm_job_id = jobs.job_id
    union all
    select
        'rec_status' as source_name,
        status_at as record_at
    from statuses
    union all
    select
        'ncem_data_files' as source_name,
        written_at as record_at
    from data_files
    union all
    select
        'nersc_counted_files' as source_name,
        written_at as record_at
    from counted_files
    union all
    select
        'stempy_log' as source_name,
        ran_at as record_at
    from stempy_runs
),

newest_records as (
    select
        source_name,
        max(record_at) as newest_record_at
    from record_times
    group by source_name
),

freshness as (
    select
        levels.source as source_name,
        newest_records.newest_record_at,
        levels.max_age_days,
        levels.severity
    from levels
    left join newest_records on levels.source = newest_records.source_name
)

select
    source_name,
    newest_record_at,
    max_age_days,
    severity
from freshness
