-- Slurm jobs that are Distiller counting runs on the realtime nodes and finished cleanly:
-- the filters of the published analysis, each a dbt var. Where the input carried sacct's
-- State, the job must also have ended in one of var count_job_states (a job cancelled while
-- running, or a TIMEOUT, also shows ExitCode 0:0); inputs without State keep the published
-- filter.
-- Incremental by job id: a build redoes the jobs whose sacct lines changed (a job repeated by an
-- overlapping window, a replaced file; see macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='job_id',
    on_schema_change='fail',
    pre_hook=[
        "{{ turnaround.keep_current_fingerprints(turnaround.count_job_inputs()) }}",
        "{{ turnaround.delete_changed_partitions('job_id') }}",
    ],
    post_hook=[
        "{{ turnaround.forget_stale_partitions() }}",
        "{{ turnaround.record_partitions() }}",
    ],
) }}
-- depends_on: {{ source('raw', 'slurm') }}
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
    where {{ turnaround.changed_partitions_condition('job_id', turnaround.count_job_inputs()) }}
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
