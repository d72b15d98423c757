-- One row per counted HDF5 file at NERSC that belongs to a Distiller scan, mtime in UTC.
with

source as (
    select * from {{ source('raw', 'nersc_counted_files') }}
),

typed as (
    select
        -- ids
        cast(distiller_id as {{ dbt.type_int() }}) as distiller_id,
        cast(scan_number as {{ dbt.type_int() }}) as scan_number,
        file_path,
        acquired_label,
        -- timestamps
        {{ parse_file_mtime('mtime', row_zone()) }} as written_at,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from source
),

distiller_scans as (
    -- distiller id 00000 marks files that are not Distiller scans
    select * from typed
    where distiller_id <> 0
)

select * from distiller_scans
