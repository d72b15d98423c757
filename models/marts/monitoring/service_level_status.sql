-- One row per service level of the seed service_levels: its statistic over the samples of its
-- window (outliers included) against its limit. The window is the level's window_days
-- facility-local days ending on the day of the newest sample of its measure in the warehouse,
-- not on the build's clock: a rebuild without new data changes nothing. A level without
-- samples in its window (a workflow that stopped while the other went on) has no data.
with

levels as (
    select * from {{ ref('service_levels') }}
),

time_to_data as (
    select * from {{ ref('fct_time_to_data') }}
),

count_jobs as (
    select * from {{ ref('fct_count_jobs') }}
),

streaming_scans as (
    select * from {{ ref('fct_streaming_scans') }}
),

samples as (
    {{ monitoring_samples('time_to_data', 'count_jobs', 'streaming_scans') }}
),

newest_dates as (
    select
        measure,
        max(sample_date) as window_end_date
    from samples
    group by measure
),

level_windows as (
    select
        levels.level_id,
        newest_dates.window_end_date,
        {{ add_days('newest_dates.window_end_date', '1 - levels.window_days') }}
            as window_start_date
    from levels
    left join newest_dates on levels.measure = newest_dates.measure
),

window_samples as (
    select
        levels.level_id,
        samples.value_s
    from levels
    inner join level_windows on levels.level_id = level_windows.level_id
    inner join samples
        on
            levels.measure = samples.measure
            and levels.workflow = samples.workflow
            and (levels.scan_size is null or levels.scan_size = samples.scan_size)
            and level_windows.window_start_date <= samples.sample_date
            and level_windows.window_end_date >= samples.sample_date
),

window_statistics as (
    select
        level_id,
        count(*) as n,
        {{ ordered_avg('value_s') }} as mean_s,
        {{ percentile_cont('value_s', 0.5) }} as p50_s,
        {{ percentile_cont('value_s', 0.9) }} as p90_s,
        {{ percentile_cont('value_s', 0.99) }} as p99_s
    from window_samples
    group by level_id
),

measured as (
    select
        levels.level_id,
        levels.workflow,
        levels.scan_size,
        levels.measure,
        levels.statistic,
        levels.max_s,
        levels.window_days,
        levels.severity,
        levels.description,
        level_windows.window_end_date,
        level_windows.window_start_date,
        coalesce(window_statistics.n, 0) as n,
        case levels.statistic
            when 'p50' then window_statistics.p50_s
            when 'p90' then window_statistics.p90_s
            when 'p99' then window_statistics.p99_s
            when 'mean' then window_statistics.mean_s
        end as measured_s
    from levels
    inner join level_windows on levels.level_id = level_windows.level_id
    left join window_statistics on levels.level_id = window_statistics.level_id
),

statuses as (
    select
        *,
        case
            when n = 0 then 'no data'
            when measured_s <= max_s then 'met'
            else 'breached'
        end as status
    from measured
)

select
    level_id,
    workflow,
    scan_size,
    measure,
    statistic,
    max_s,
    window_days,
    severity,
    description,
    window_end_date,
    window_start_date,
    n,
    measured_s,
    status
from statuses
