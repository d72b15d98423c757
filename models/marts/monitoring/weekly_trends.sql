-- One row per (measure, facility-local ISO week, workflow, scan size) with samples: time to data
-- (outliers included: what users waited) and the counting jobs' queue time, with the week's
-- quantiles, a baseline of the previous var trend_baseline_weeks calendar weeks (weeks without
-- data are absent and count for nothing) and a flag when the week's p90 stands out of it and
-- the week has samples enough for a p90 to mean something (a small week still counts in the
-- baselines of later weeks, once, like any other).
-- The baseline is the median of the baseline weeks' p90s and its spread their median absolute
-- deviation: every week counts once whatever its volume, and one bad week moves neither much.
{%- set baseline_days = 7 * var('trend_baseline_weeks') %}
{%- set min_baseline_weeks = var('trend_min_baseline_weeks') %}
{%- set min_week_samples = var('trend_min_week_samples') %}
{%- set p90_factor = var('trend_p90_factor') %}
{%- set mad_k = var('trend_mad_k') %}
{%- set min_increase_s = var('trend_min_increase_s') %}
with

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

samples_with_weeks as (
    select
        measure,
        workflow,
        scan_size,
        {{ iso_week_start('sample_date') }} as week_start_date,
        value_s
    from samples
),

weekly as (
    select
        measure,
        workflow,
        scan_size,
        week_start_date,
        count(*) as n,
        {{ ordered_avg('value_s') }} as mean_s,
        {{ percentile_cont('value_s', 0.5) }} as p50_s,
        {{ percentile_cont('value_s', 0.9) }} as p90_s,
        {{ percentile_cont('value_s', 0.99) }} as p99_s
    from samples_with_weeks
    group by measure, workflow, scan_size, week_start_date
),

-- each week with every earlier week of its series that lies at most N weeks back
baseline_weeks as (
    select
        weekly.measure,
        weekly.workflow,
        weekly.scan_size,
        weekly.week_start_date,
        earlier.p90_s as week_p90_s
    from weekly
    inner join weekly as earlier
        on
            weekly.measure = earlier.measure
            and weekly.workflow = earlier.workflow
            and weekly.scan_size = earlier.scan_size
            and {{ days_between('earlier.week_start_date', 'weekly.week_start_date') }}
            between 7 and {{ baseline_days }}
),

baseline_medians as (
    select
        measure,
        workflow,
        scan_size,
        week_start_date,
        count(*) as baseline_weeks,
        {{ percentile_cont('week_p90_s', 0.5) }} as baseline_p90_s
    from baseline_weeks
    group by measure, workflow, scan_size, week_start_date
),

baseline_deviations as (
    select
        baseline_weeks.measure,
        baseline_weeks.workflow,
        baseline_weeks.scan_size,
        baseline_weeks.week_start_date,
        abs(baseline_weeks.week_p90_s - baseline_medians.baseline_p90_s) as deviation_s
    from baseline_weeks
    inner join baseline_medians
        on
            baseline_weeks.measure = baseline_medians.measure
            and baseline_weeks.workflow = baseline_medians.workflow
            and baseline_weeks.scan_size = baseline_medians.scan_size
            and baseline_weeks.week_start_date = baseline_medians.week_start_date
),

baseline_mads as (
    select
        measure,
        workflow,
        scan_size,
        week_start_date,
        {{ percentile_cont('deviation_s', 0.5) }} as baseline_mad_s
    from baseline_deviations
    group by measure, workflow, scan_size, week_start_date
),

weeks_with_baselines as (
    select
        weekly.measure,
        weekly.workflow,
        weekly.scan_size,
        weekly.week_start_date,
        weekly.n,
        weekly.mean_s,
        weekly.p50_s,
        weekly.p90_s,
        weekly.p99_s,
        coalesce(baseline_medians.baseline_weeks, 0) as baseline_weeks,
        baseline_medians.baseline_p90_s,
        baseline_mads.baseline_mad_s
    from weekly
    left join baseline_medians
        on
            weekly.measure = baseline_medians.measure
            and weekly.workflow = baseline_medians.workflow
            and weekly.scan_size = baseline_medians.scan_size
            and weekly.week_start_date = baseline_medians.week_start_date
    left join baseline_mads
        on
            weekly.measure = baseline_mads.measure
            and weekly.workflow = baseline_mads.workflow
            and weekly.scan_size = baseline_mads.scan_size
            and weekly.week_start_date = baseline_mads.week_start_date
),

-- what both rules ask first: baseline weeks and samples enough, and a rise anyone notices
weeks_judged as (
    select
        *,
        coalesce(
            baseline_weeks >= {{ min_baseline_weeks }}
            and n >= {{ min_week_samples }}
            and p90_s - baseline_p90_s >= {{ min_increase_s }},
            false
        ) as is_judged
    from weeks_with_baselines
),

rules_checked as (
    select
        *,
        coalesce(is_judged and p90_s > baseline_p90_s * {{ p90_factor }}, false)
            as is_above_factor,
        coalesce(
            is_judged
            and baseline_mad_s > 0
            and p90_s > baseline_p90_s + {{ mad_k }} * baseline_mad_s,
            false
        ) as is_above_mad
    from weeks_judged
),

flagged as (
    select
        measure,
        week_start_date,
        {{ iso_week_label('week_start_date') }} as iso_week,
        workflow,
        scan_size,
        n,
        mean_s,
        p50_s,
        p90_s,
        p99_s,
        baseline_weeks,
        baseline_p90_s,
        baseline_mad_s,
        is_above_factor or is_above_mad as is_flagged,
        case
            when is_above_factor and is_above_mad
                then 'p90 over {{ p90_factor }} x baseline; p90 over baseline + {{ mad_k }} mad'
            when is_above_factor then 'p90 over {{ p90_factor }} x baseline'
            when is_above_mad then 'p90 over baseline + {{ mad_k }} mad'
        end as flag_reason
    from rules_checked
)

select
    measure,
    week_start_date,
    iso_week,
    workflow,
    scan_size,
    n,
    mean_s,
    p50_s,
    p90_s,
    p99_s,
    baseline_weeks,
    baseline_p90_s,
    baseline_mad_s,
    is_flagged,
    flag_reason
from flagged
