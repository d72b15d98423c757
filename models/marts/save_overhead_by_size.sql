-- The time the counting job spends saving real data beyond saving blank data, per scan size.
with

runs as (
    select * from {{ ref('stg_stempy__runs') }}
),

benchmark_scans as (
    select * from {{ ref('stempy_benchmark_scans') }}
),

by_size as (
    select
        benchmark_scans.scan_size,
        count(case when benchmark_scans.data_kind = 'real' then runs.save_time_s end)
            as n_real_runs,
        avg(case when benchmark_scans.data_kind = 'real' then runs.save_time_s end)
            as real_mean_save_s,
        stddev_samp(case when benchmark_scans.data_kind = 'real' then runs.save_time_s end)
            as real_std_save_s,
        count(case when benchmark_scans.data_kind = 'blank' then runs.save_time_s end)
            as n_blank_runs,
        avg(case when benchmark_scans.data_kind = 'blank' then runs.save_time_s end)
            as blank_mean_save_s,
        stddev_samp(case when benchmark_scans.data_kind = 'blank' then runs.save_time_s end)
            as blank_std_save_s
    from runs
    inner join benchmark_scans on runs.scan_number = benchmark_scans.scan_number
    group by benchmark_scans.scan_size
)

select
    scan_size,
    n_real_runs,
    real_mean_save_s,
    real_std_save_s,
    n_blank_runs,
    blank_mean_save_s,
    blank_std_save_s,
    real_mean_save_s - blank_mean_save_s as save_overhead_s
from by_size
