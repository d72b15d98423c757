-- One row per (Distiller scan, Slurm job) from the exports, typed.
with

source as (
    select * from {{ source('raw', 'distiller_db') }}
),

versions as (
    -- the same pair exported twice (a re-export): keep the newest load's row
    select
        *,
        row_number() over (
            partition by id, coalesce(slurm_id, ''), scan_width, scan_height
            order by _load_id desc, _source_file desc, _record_number desc
        ) as version_rank
    from source
),

typed as (
    select
        -- ids
        cast(id as {{ dbt.type_int() }}) as scan_id,
        nullif(slurm_id, '') as slurm_job_id,
        -- dimensions
        cast(scan_width as {{ dbt.type_int() }}) as scan_size,
        cast(scan_width as {{ dbt.type_int() }}) as scan_width,
        cast(scan_height as {{ dbt.type_int() }}) as scan_height,
        -- measures
        {{ interval_text_to_seconds('elapsed') }} as distiller_elapsed_s,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from versions
    where version_rank = 1
)

select * from typed
