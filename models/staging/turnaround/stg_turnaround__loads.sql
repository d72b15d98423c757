-- One row per file per load that wrote it: the ledger `turnaround load` keeps in raw.loads.
with

source as (
    select * from {{ source('raw', 'loads') }}
),

renamed as (
    select
        -- ids
        source.load_id,
        source.source as source_name,
        source.path as file_path,
        -- timestamps
        source.started_at,
        source.finished_at,
        -- measures
        source.size_bytes,
        source.rows as n_rows,
        source.skipped as n_skipped,
        source.rejected as n_rejected,
        -- attributes
        source.format as input_format,
        source.sha256,
        source.status,
        source.error
    from source
)

select * from renamed
