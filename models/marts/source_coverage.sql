-- One row per source: how many records it holds, its newest record and when it was last loaded.
with

loads as (
    select * from {{ ref('stg_turnaround__loads') }}
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

newest_records as (
    select
        'slurm' as source_name,
        count(*) as n_records,
        max(submitted_at) as newest_record_at
    from jobs
    union all
    select
        'distiller_db' as source_name,
        count(*) as n_records,
        cast(null as {{ type_instant() }}) as newest_record_at
    from scan_jobs
    union all
    select
        'rec_status' as source_name,
        count(*) as n_records,
        max(status_at) as newest_record_at
    from statuses
    union all
    select
        'ncem_data_files' as source_name,
        count(*) as n_records,
        max(written_at) as newest_record_at
    from data_files
    union all
    select
        'nersc_counted_files' as source_name,
        count(*) as n_records,
        max(written_at) as newest_record_at
    from counted_files
    union all
    select
        'stempy_log' as source_name,
        count(*) as n_records,
        max(ran_at) as newest_record_at
    from stempy_runs
),

last_loads as (
    select
        loads.source_name,
        count(*) as n_file_loads,
        max(loads.finished_at) as last_loaded_at
    from loads
    group by loads.source_name
),

coverage as (
    select
        newest_records.source_name,
        newest_records.n_records,
        newest_records.newest_record_at,
        coalesce(last_loads.n_file_loads, 0) as n_file_loads,
        last_loads.last_loaded_at
    from newest_records
    left join last_loads on newest_records.source_name = last_loads.source_name
)

select
    source_name,
    n_records,
    newest_record_at,
    n_file_loads,
    last_loaded_at
from coverage
