-- Records the loaders set aside (raw.rejected_records), by source and kind of defect: each is
-- a line or file that could not be read, kept with its text so nothing is lost silently.
{{ config(severity='warn') }}

with

rejects as (
    select * from {{ source('raw', 'rejected_records') }}
)

select
    source,
    reason_kind,
    count(*) as n_rejected,
    min(file_path) as example_file,
    min(line_number) as example_line
from rejects
group by source, reason_kind
