-- One row per data file written at NCEM (or per scan, from a CSV extract) with its mtime in UTC.
with

source as (
    select * from {{ source('raw', 'ncem_data_files') }}
),

typed as (
    select
        -- ids
        cast(scan_number as {{ dbt.type_int() }}) as scan_number,
        file_path,
        cast(file_part as {{ dbt.type_int() }}) as file_part,
        -- timestamps
        {{ parse_file_mtime('mtime', row_zone()) }} as written_at,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from source
)

select * from typed
