-- The paper's table: time to data per scan size, file transfer vs streaming, outliers removed.
with

stats as (
    select * from {{ ref('time_to_data_stats') }}
    where outliers = 'removed'
),

detector as (
    select * from {{ ref('detector') }}
),

by_size as (
    select
        scan_size,
        max(case when workflow = 'file_transfer' then mean_s end) as file_transfer_mean_s,
        max(case when workflow = 'file_transfer' then std_s end) as file_transfer_std_s,
        max(case when workflow = 'streaming' then mean_s end) as streaming_mean_s,
        max(case when workflow = 'streaming' then std_s end) as streaming_std_s
    from stats
    group by scan_size
),

compared as (
    select
        by_size.scan_size,
        cast(by_size.scan_size as {{ turnaround.type_double() }}) * by_size.scan_size
        * detector.width_px * detector.height_px * detector.bytes_per_pixel
        / 1e9 as data_size_gb,
        by_size.file_transfer_mean_s,
        by_size.file_transfer_std_s,
        by_size.streaming_mean_s,
        by_size.streaming_std_s,
        by_size.file_transfer_mean_s / nullif(by_size.streaming_mean_s, 0) as enhancement
    from by_size
    cross join detector
)

select
    scan_size,
    data_size_gb,
    file_transfer_mean_s,
    file_transfer_std_s,
    streaming_mean_s,
    streaming_std_s,
    enhancement
from compared
