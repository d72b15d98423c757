-- A scan size in the comparison without one of the workflows: its enhancement is unknown.
{{ config(severity='warn') }}

select scan_size
from {{ ref('transfer_comparison') }}
where file_transfer_mean_s is null or streaming_mean_s is null
