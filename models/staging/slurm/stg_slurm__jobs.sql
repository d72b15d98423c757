-- One row per Slurm job: steps dropped, repeats across overlapping sacct windows collapsed,
-- times in UTC and durations in seconds.
with

source as (
    select * from {{ source('raw', 'slurm') }}
),

allocations as (
    -- `123.batch`, `123.extern`, `123.0` are steps of job 123, not jobs
    select * from source
    where job_id not like '%.%'
),

versions as (
    -- a job seen in several windows: prefer the record that knows its end, then the newest load
    select
        *,
        row_number() over (
            partition by job_id
            order by
                case when end_time in {{ sql_list(var('slurm_unknown_times')) }} then 1 else 0 end,
                _load_id desc,
                _source_file desc,
                _record_number desc
        ) as version_rank
    from allocations
),

latest as (
    select * from versions
    where version_rank = 1
),

typed as (
    select
        -- ids
        job_id,
        job_name,
        user_name,
        qos,
        cast(nullif(req_nodes, '') as {{ dbt.type_int() }}) as req_nodes,
        exit_code,
        -- timestamps
        {{ slurm_time_to_utc('submit_time') }} as submitted_at,
        {{ slurm_time_to_utc('start_time') }} as started_at,
        {{ slurm_time_to_utc('end_time') }} as ended_at,
        -- measures
        {{ slurm_duration_to_seconds('elapsed') }} as elapsed_s,
        {{ slurm_duration_to_seconds('timelimit') }} as timelimit_s,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from latest
)

select * from typed
