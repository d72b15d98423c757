-- Slurm jobs that are Distiller counting runs on the realtime nodes and finished cleanly:
-- the filters of the published analysis, each a dbt var. Where the input carried sacct's
-- State, the job must also have ended in one of var count_job_states (a job cancelled while
-- running, or a TIMEOUT, also shows ExitCode 0:0); inputs without State keep the published
-- filter.
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

count_jobs as (
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
    from jobs
    where
        {{ contains_text('job_name', var("count_job_name_contains")) }}
        and started_at is not null
        and req_nodes = {{ var("count_job_req_nodes") }}
        and {{ contains_text('qos', var("count_job_qos_contains")) }}
        and exit_code = {{ sql_string(var("count_job_exit_code")) }}
        and (state is null or state in {{ sql_list(var("count_job_states")) }})
)

select * from count_jobs
