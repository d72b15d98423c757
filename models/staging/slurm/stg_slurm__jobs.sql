-- One row per Slurm job: steps dropped, repeats across overlapping sacct windows and files and
-- the runs of a requeued job collapsed, times in UTC and durations in seconds.
with

source as (
    select * from {{ source('raw', 'slurm') }}
),

allocations as (
    -- `123.batch`, `123.extern`, `123.0` are steps of job 123, not jobs
    select * from source
    where job_id not like '%.%'
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
        -- `CANCELLED by 123` is CANCELLED; NULL when the input had no State field
        nullif(upper(trim(split_part(state, ' ', 1))), '') as state,
        -- timestamps
        {{ slurm_time_to_utc('submit_time') }} as submitted_at,
        {{ slurm_time_to_utc('start_time') }} as started_at,
        {{ slurm_time_to_utc('end_time') }} as ended_at,
        -- measures
        {{ slurm_duration_to_seconds('elapsed') }} as elapsed_s,
        {{ slurm_duration_to_seconds('timelimit') }} as timelimit_s,
        -- lineage
        _source_file as source_file,
        _record_number as source_line,
        _load_id as load_id
    from allocations
),

versions as (
    -- a job is its latest run (a requeued job's runs share its id; the newest submit is the
    -- run that counts); within one run the record that knows its end (overlapping windows,
    -- several captures), then the newest load; never the file's name or place
    select
        *,
        row_number() over (
            partition by job_id
            order by
                submitted_at desc nulls last,
                case when ended_at is null then 1 else 0 end,
                ended_at desc,
                load_id desc,
                elapsed_s desc,
                coalesce(state, '') desc,
                source_line desc
        ) as version_rank
    from typed
),

latest as (
    select
        job_id,
        job_name,
        user_name,
        qos,
        req_nodes,
        exit_code,
        state,
        submitted_at,
        started_at,
        ended_at,
        elapsed_s,
        timelimit_s,
        source_file,
        source_line
    from versions
    where version_rank = 1
)

select * from latest
