-- One row per workflow: the least-squares line of time to data against the scan's data size
-- (outliers removed), time = overhead + size / bandwidth, with what a prediction interval
-- needs (n, residual standard error, mean size, sum of squared size deviations). Two passes
-- (means, then deviations) keep the sums free of cancellation.
with

time_to_data as (
    select * from {{ ref('fct_time_to_data') }}
),

detector as (
    select * from {{ ref('detector') }}
),

samples as (
    select
        time_to_data.workflow,
        cast(time_to_data.scan_size as {{ type_double() }}) * time_to_data.scan_size
        * detector.width_px * detector.height_px * detector.bytes_per_pixel
        / 1e9 as data_size_gb,
        time_to_data.time_to_data_s
    from time_to_data
    cross join detector
    where not time_to_data.is_outlier
),

means as (
    select
        workflow,
        count(*) as n,
        {{ ordered_avg('data_size_gb') }} as mean_gb,
        {{ ordered_avg('time_to_data_s') }} as mean_s
    from samples
    group by workflow
),

deviations as (
    select
        samples.workflow,
        samples.data_size_gb - means.mean_gb as dx,
        samples.time_to_data_s - means.mean_s as dy
    from samples
    inner join means on samples.workflow = means.workflow
),

sums as (
    select
        workflow,
        {{ ordered_sum('dx * dx') }} as sxx,
        {{ ordered_sum('dx * dy') }} as sxy,
        {{ ordered_sum('dy * dy') }} as syy
    from deviations
    group by workflow
),

lines as (
    select
        means.workflow,
        means.n,
        means.mean_gb,
        sums.sxx,
        sums.sxy,
        sums.syy,
        sums.sxy / nullif(sums.sxx, 0) as slope_s_per_gb,
        means.mean_s - sums.sxy / nullif(sums.sxx, 0) * means.mean_gb as overhead_s
    from means
    inner join sums on means.workflow = sums.workflow
),

residuals as (
    select
        lines.workflow,
        samples.time_to_data_s
        - (lines.overhead_s + lines.slope_s_per_gb * samples.data_size_gb) as residual_s
    from lines
    inner join samples on lines.workflow = samples.workflow
),

residual_sums as (
    select
        workflow,
        {{ ordered_sum('residual_s * residual_s') }} as sse
    from residuals
    group by workflow
),

fits as (
    select
        lines.workflow,
        lines.n,
        lines.overhead_s,
        case
            when lines.slope_s_per_gb > 0 then 1 / lines.slope_s_per_gb
        end as bandwidth_gb_s,
        lines.slope_s_per_gb,
        lines.sxy * lines.sxy / nullif(lines.sxx * lines.syy, 0) as r_squared,
        case
            when lines.n > 2 then sqrt(residual_sums.sse / (lines.n - 2))
        end as residual_se_s,
        lines.mean_gb,
        lines.sxx
    from lines
    inner join residual_sums on lines.workflow = residual_sums.workflow
)

select
    workflow,
    n,
    overhead_s,
    bandwidth_gb_s,
    slope_s_per_gb,
    r_squared,
    residual_se_s,
    mean_gb,
    sxx
from fits
