{#- Macros of the monitoring marts (models/marts/monitoring/): weeks, order-independent sums and
    the samples the trends and service levels are drawn from. -#}

{#- The Monday that starts the ISO week of a date. DuckDB's week is ISO's (Monday); other
    engines differ (BigQuery's starts on Sunday, Snowflake's follows a session setting), so
    there is no portable default. -#}
{% macro iso_week_start(date_expression) -%}
    {{ return(adapter.dispatch('iso_week_start', 'turnaround')(date_expression)) }}
{%- endmacro %}

{% macro duckdb__iso_week_start(date_expression) -%}
    cast(date_trunc('week', {{ date_expression }}) as date)
{%- endmacro %}

{#- trunc(date, 'week') is the Monday of the date's week, a date -#}
{% macro spark__iso_week_start(date_expression) -%}
    trunc({{ date_expression }}, 'week')
{%- endmacro %}

{#- The ISO week of a date as text, `2023-W41` (ISO year, which differs from the calendar year
    around New Year, and two-digit week). -#}
{% macro iso_week_label(date_expression) -%}
    {{ return(adapter.dispatch('iso_week_label', 'turnaround')(date_expression)) }}
{%- endmacro %}

{% macro duckdb__iso_week_label(date_expression) -%}
    strftime({{ date_expression }}, '%G-W%V')
{%- endmacro %}

{#- Spark's datetime patterns have no week-based fields since 3.0: the ISO year is the year of
    the week's Thursday, weekofyear the ISO week -#}
{% macro spark__iso_week_label(date_expression) -%}
    concat(
        cast(year(date_add(trunc({{ date_expression }}, 'week'), 3)) as string),
        '-W',
        lpad(cast(weekofyear({{ date_expression }}) as string), 2, '0')
    )
{%- endmacro %}

{#- Every sample the monitoring marts watch, one row each: `measure` (`time_to_data`: a
    sample of fct_time_to_data, outliers included; `queue_time`: a row of fct_count_jobs),
    `workflow` (`file_transfer`, `streaming`; `count_job` for queue times), `scan_size`,
    `sample_date` (facility-local date: the job's submit for a file transfer and a queue time,
    the first receiver status for a streamed scan) and `value_s`. The arguments name the
    relations (or CTEs) of fct_time_to_data, fct_count_jobs and fct_streaming_scans; a sample
    finds its time by the key fct_time_to_data gives it. -#}
{% macro monitoring_samples(time_to_data, count_jobs, streaming_scans) -%}
    select
        'time_to_data' as measure,
        {{ time_to_data }}.workflow,
        {{ time_to_data }}.scan_size,
        {{ turnaround.utc_to_local_date(count_jobs ~ '.submitted_at') }} as sample_date,
        {{ time_to_data }}.time_to_data_s as value_s
    from {{ time_to_data }}
    inner join {{ count_jobs }}
        on {{ time_to_data }}.sample_key
        = cast({{ count_jobs }}.job_id as {{ dbt.type_string() }})
        || '/' || cast({{ count_jobs }}.scan_id as {{ dbt.type_string() }})
    where {{ time_to_data }}.workflow = 'file_transfer'
    union all
    select
        'time_to_data' as measure,
        {{ time_to_data }}.workflow,
        {{ time_to_data }}.scan_size,
        {{ turnaround.utc_to_local_date(streaming_scans ~ '.first_status_at') }} as sample_date,
        {{ time_to_data }}.time_to_data_s as value_s
    from {{ time_to_data }}
    inner join {{ streaming_scans }}
        on {{ time_to_data }}.sample_key
        = cast({{ streaming_scans }}.scan_number as {{ dbt.type_string() }})
    where {{ time_to_data }}.workflow = 'streaming'
    union all
    select
        'queue_time' as measure,
        'count_job' as workflow,
        scan_size,
        {{ turnaround.utc_to_local_date('submitted_at') }} as sample_date,
        cast(queue_time_s as {{ turnaround.type_double() }}) as value_s
    from {{ count_jobs }}
{%- endmacro %}
