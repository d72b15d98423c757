-- One row per (Distiller scan, Distiller job) of the count-job kind, typed: from the exports
-- (whose rows are all of the query that joined scans to their jobs) or from the database.
with

source as (
    select * from {{ source('raw', 'distiller_db') }}
),

count_jobs as (
    -- transfer and streaming jobs are Distiller's too, but not counting runs; an export does
    -- not say a job's type (NULL): it holds the jobs the analysis's query chose
    select * from source
    where job_type is null or lower(job_type) in {{ sql_list(var('distiller_job_types')) }}
),

versions as (
    -- the same pair exported twice (a re-export): keep the newest load's row
    select
        *,
        row_number() over (
            partition by
                id, coalesce(job_id, ''), coalesce(slurm_id, ''), coalesce(scan_width, ''),
                coalesce(scan_height, '')
            order by _load_id desc, _source_file desc, _record_number desc
        ) as version_rank
    from count_jobs
),

typed as (
    select
        -- ids
        cast(id as {{ dbt.type_int() }}) as scan_id,
        cast(job_id as {{ dbt.type_int() }}) as distiller_job_id,
        nullif(slurm_id, '') as slurm_job_id,
        lower(job_type) as job_type,
        -- dimensions: NULL for a scan Distiller has no size of (no HAADF metadata)
        cast(nullif(scan_width, '') as {{ dbt.type_int() }}) as scan_size,
        cast(nullif(scan_width, '') as {{ dbt.type_int() }}) as scan_width,
        cast(nullif(scan_height, '') as {{ dbt.type_int() }}) as scan_height,
        -- measures
        {{ interval_text_to_seconds('elapsed') }} as distiller_elapsed_s,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from versions
    where version_rank = 1
)

select * from typed
