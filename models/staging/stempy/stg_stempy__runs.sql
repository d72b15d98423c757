-- One row per run of the counting job in stempy's performance log.
with

source as (
    select * from {{ source('raw', 'stempy_log') }}
),

typed as (
    select
        -- ids
        cast(scan_number as {{ dbt.type_int() }}) as scan_number,
        cast(run_index as {{ dbt.type_int() }}) as run_index,
        image,
        -- timestamps (`yymmdd_hhmm`, facility-local)
        case
            when {{ regex_matches('timestamp', '^[0-9]{6}_[0-9]{4}$') }}
                then {{ local_to_utc(
                    "'20' || substr(timestamp, 1, 2) || '-' || substr(timestamp, 3, 2) || '-'"
                    ~ " || substr(timestamp, 5, 2) || ' ' || substr(timestamp, 8, 2) || ':'"
                    ~ " || substr(timestamp, 10, 2) || ':00'"
                ) }}
        end as ran_at,
        -- measures
        cast(count_time as {{ turnaround.type_double() }}) as count_time_s,
        cast(save_time as {{ turnaround.type_double() }}) as save_time_s,
        cast(total_time as {{ turnaround.type_double() }}) as total_time_s,
        -- lineage
        _source_file as source_file,
        _record_number as source_line
    from source
)

select * from typed
