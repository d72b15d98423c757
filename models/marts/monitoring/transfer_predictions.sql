-- One row per (workflow, scan size of the seed prediction_sizes): the time to data the
-- transfer_model line predicts and its 95% prediction interval,
-- t(0.975, n - 2) * se * sqrt(1 + 1/n + (x - mean)^2 / sxx). t comes from the seed
-- t_quantiles: the row of the largest tabulated df not above n - 2 (t falls as df grows, so
-- the interval is never narrower than the exact one). No interval below three samples.
with

transfer_model as (
    select * from {{ ref('transfer_model') }}
),

sizes as (
    select * from {{ ref('prediction_sizes') }}
),

t_quantiles as (
    select * from {{ ref('t_quantiles') }}
),

time_to_data as (
    select * from {{ ref('fct_time_to_data') }}
),

measured_sizes as (
    select
        workflow,
        scan_size
    from time_to_data
    where not is_outlier
    group by workflow, scan_size
),

tabulated_dfs as (
    select
        transfer_model.workflow,
        max(t_quantiles.df) as df
    from transfer_model
    inner join t_quantiles on transfer_model.n - 2 >= t_quantiles.df
    group by transfer_model.workflow
),

lines_with_t as (
    select
        transfer_model.workflow,
        transfer_model.n,
        transfer_model.overhead_s,
        transfer_model.slope_s_per_gb,
        transfer_model.residual_se_s,
        transfer_model.mean_gb,
        transfer_model.sxx,
        t_quantiles.t_975
    from transfer_model
    left join tabulated_dfs on transfer_model.workflow = tabulated_dfs.workflow
    left join t_quantiles on tabulated_dfs.df = t_quantiles.df
),

predictions as (
    select
        lines_with_t.workflow,
        sizes.scan_size,
        sizes.data_size_gb,
        lines_with_t.overhead_s + lines_with_t.slope_s_per_gb * sizes.data_size_gb as predicted_s,
        lines_with_t.t_975 * lines_with_t.residual_se_s * sqrt(
            1 + 1.0 / lines_with_t.n
            + (sizes.data_size_gb - lines_with_t.mean_gb)
            * (sizes.data_size_gb - lines_with_t.mean_gb)
            / nullif(lines_with_t.sxx, 0)
        ) as half_width_s,
        measured_sizes.scan_size is not null as is_measured_size
    from lines_with_t
    cross join sizes
    left join measured_sizes
        on
            lines_with_t.workflow = measured_sizes.workflow
            and sizes.scan_size = measured_sizes.scan_size
)

select
    workflow,
    scan_size,
    data_size_gb,
    predicted_s,
    predicted_s - half_width_s as prediction_low_s,
    predicted_s + half_width_s as prediction_high_s,
    is_measured_size
from predictions
