-- One row per (Slurm counting job, Distiller scan) after the filters: the published
-- `merged_job_info`. Only scans of the sizes the analysis covers (those of the experiments
-- seed) count: a 64 x 64 scan's job, or a scan Distiller has no size of, stays out.
with

jobs as (
    select * from {{ ref('int_count_jobs_filtered') }}
),

scan_jobs as (
    select * from {{ ref('stg_distiller__scan_jobs') }}
),

experiments as (
    select * from {{ ref('experiments') }}
),

scan_sizes as (
    select distinct scan_size from experiments
),

jobs_with_scans as (
    select
        -- ids
        cast(jobs.job_id as {{ dbt.type_bigint() }}) as job_id,
        jobs.job_name,
        scan_jobs.scan_id,
        scan_jobs.scan_size,
        -- timestamps
        jobs.submitted_at,
        jobs.started_at,
        jobs.ended_at,
        -- measures
        {{ whole_seconds_between('jobs.submitted_at', 'jobs.started_at') }} as queue_time_s, -- noqa: LT05
        jobs.elapsed_s,
        scan_jobs.distiller_elapsed_s,
        jobs.timelimit_s,
        -- attributes
        jobs.req_nodes,
        jobs.qos,
        jobs.user_name,
        jobs.exit_code
    from jobs
    inner join scan_jobs on jobs.job_id = scan_jobs.slurm_job_id
    inner join scan_sizes on scan_jobs.scan_size = scan_sizes.scan_size
    where scan_jobs.distiller_elapsed_s <= {{ var('max_distiller_elapsed_s') }}
)

select
    job_id,
    job_name,
    scan_id,
    scan_size,
    submitted_at,
    started_at,
    ended_at,
    queue_time_s,
    elapsed_s,
    distiller_elapsed_s,
    timelimit_s,
    req_nodes,
    qos,
    user_name,
    exit_code
from jobs_with_scans
