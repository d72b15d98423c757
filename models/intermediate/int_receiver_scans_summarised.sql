-- One row per scan number: the earliest and latest receiver status and how many receivers
-- reported it.
with

statuses as (
    select * from {{ ref('stg_ncem__receiver_statuses') }}
),

scans as (
    select
        scan_number,
        min(status_at) as first_status_at,
        max(status_at) as last_status_at,
        count(*) as n_receivers
    from statuses
    group by scan_number
)

select * from scans
