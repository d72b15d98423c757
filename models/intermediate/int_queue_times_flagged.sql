-- Queue times of the counting jobs flagged as outliers over all jobs.
{{ flag_iqr_outliers(ref('fct_count_jobs'), 'queue_time_s') }}
