-- One row per (scan, receiver): when the receiver reported the scan, in UTC.
with

source as (
    select * from {{ source('raw', 'rec_status') }}
),

versions as (
    -- the same status in several inputs (same scan, receiver and time): keep the newest load's;
    -- the same scan number at another time is another acquisition (a counter reset) and stays
    select
        *,
        row_number() over (
            partition by scan_number, receiver, time
            order by _load_id desc, _source_file desc, _record_number desc
        ) as version_rank
    from source
),

typed as (
    select
        -- ids
        cast(scan_number as {{ dbt.type_int() }}) as scan_number,
        cast(receiver as {{ dbt.type_int() }}) as receiver,
        uuid as scan_uuid,
        cast(last_scan_number as {{ dbt.type_int() }}) as last_scan_number,
        cast(progress as {{ turnaround.type_double() }}) as progress,
        -- timestamps
        {{ parse_aware_timestamp('time') }} as status_at,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from versions
    where version_rank = 1
)

select * from typed
