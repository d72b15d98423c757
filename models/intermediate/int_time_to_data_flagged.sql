-- Time-to-data samples flagged as outliers within their scan size and workflow.
{{ flag_iqr_outliers(
    ref('int_time_to_data_samples'), 'time_to_data_s', ['scan_size', 'workflow']
) }}
