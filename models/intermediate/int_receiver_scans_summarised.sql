-- One row per acquisition: a scan number with its receivers' statuses. The receivers' scan
-- counter restarts now and then, so one scan number can name several acquisitions; statuses
-- of one number further apart than var scan_reset_gap_s start a new acquisition.
with

statuses as (
    select * from {{ ref('stg_ncem__receiver_statuses') }}
),

with_previous as (
    select
        scan_number,
        receiver,
        status_at,
        lag(status_at) over (partition by scan_number order by status_at) as previous_at
    from statuses
),

marked as (
    select
        scan_number,
        receiver,
        status_at,
        case
            when previous_at is null then 1
            when {{ seconds_between('previous_at', 'status_at') }} > {{ var('scan_reset_gap_s') }}
                then 1
            else 0
        end as starts_acquisition
    from with_previous
),

numbered as (
    select
        scan_number,
        receiver,
        status_at,
        -- bigint on every engine (DuckDB's sum of integers is a 128-bit HUGEINT)
        cast(sum(starts_acquisition) over (
            partition by scan_number order by status_at rows unbounded preceding
        ) as {{ dbt.type_bigint() }}) as acquisition_number
    from marked
),

acquisitions as (
    select
        scan_number,
        acquisition_number,
        min(status_at) as first_status_at,
        max(status_at) as last_status_at,
        count(distinct receiver) as n_receivers
    from numbered
    group by scan_number, acquisition_number
),

with_next as (
    select
        scan_number,
        acquisition_number,
        cast(scan_number as {{ dbt.type_string() }}) || '/'
        || cast(acquisition_number as {{ dbt.type_string() }}) as acquisition_key,
        first_status_at,
        last_status_at,
        n_receivers,
        lead(first_status_at) over (
            partition by scan_number order by first_status_at
        ) as next_first_status_at
    from acquisitions
)

select * from with_next
