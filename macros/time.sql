{#- Engine-specific time handling, one adapter.dispatch macro each. -#}

{#- A naive local timestamp (text or timestamp) as a UTC instant, DST-correct. The zone is the
    facility's (var timezone) unless `zone` gives a SQL expression for it (e.g. a column). -#}
{% macro local_to_utc(expression, zone=none) -%}
    {{ return(adapter.dispatch('local_to_utc', 'turnaround')(expression, zone)) }}
{%- endmacro %}

{% macro default__local_to_utc(expression, zone=none) -%}
    (cast({{ expression }} as timestamp) at time zone {{ zone or turnaround.facility_zone() }})
{%- endmacro %}

{% macro duckdb__local_to_utc(expression, zone=none) -%}
    timezone({{ zone or turnaround.facility_zone() }}, cast({{ expression }} as timestamp))
{%- endmacro %}

{#- The facility's zone as a SQL string literal. -#}
{% macro facility_zone() -%}
    '{{ var("timezone") }}'
{%- endmacro %}

{#- The zone of a raw row's naive times: its own (`_time_zone`, set by an input's `timezone`
    key) or the facility's. -#}
{% macro row_zone() -%}
    coalesce(_time_zone, {{ turnaround.facility_zone() }})
{%- endmacro %}

{#- ISO 8601 text with an offset or `Z` as an instant. -#}
{% macro parse_aware_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_aware_timestamp', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro default__parse_aware_timestamp(expression) -%}
    cast({{ expression }} as timestamp with time zone)
{%- endmacro %}

{#- The facility-local calendar date of a UTC instant. -#}
{% macro utc_to_local_date(expression) -%}
    {{ return(adapter.dispatch('utc_to_local_date', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro default__utc_to_local_date(expression) -%}
    cast(({{ expression }} at time zone '{{ var("timezone") }}') as date)
{%- endmacro %}

{% macro duckdb__utc_to_local_date(expression) -%}
    cast(timezone('{{ var("timezone") }}', {{ expression }}) as date)
{%- endmacro %}

{#- Seconds from one instant to another, fractions kept (negative when `end` is earlier). -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'turnaround')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    extract(epoch from ({{ end }} - {{ start }}))
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    (epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}

{#- A file mtime as loaded: epoch seconds, stat's %y form with offset, ISO 8601 with offset,
    or a naive facility-local time. -#}
{% macro parse_file_mtime(expression, zone=none) -%}
    {{ return(adapter.dispatch('parse_file_mtime', 'turnaround')(expression, zone)) }}
{%- endmacro %}

{% macro default__parse_file_mtime(expression, zone=none) -%}
    case
        when {{ turnaround.regex_matches(expression, '^[0-9]+([.][0-9]+)?$') }}
            then to_timestamp(cast({{ expression }} as {{ turnaround.type_double() }}))
        when {{ turnaround.regex_matches(expression, '(Z|[+-][0-9]{2}:?[0-9]{2})$') }}
            then cast({{ expression }} as timestamp with time zone)
        else {{ turnaround.local_to_utc(expression, zone) }}
    end
{%- endmacro %}

{% macro duckdb__parse_file_mtime(expression, zone=none) -%}
    case
        when regexp_full_match({{ expression }}, '[0-9]+([.][0-9]+)?')
            then to_timestamp(cast({{ expression }} as double))
        when regexp_full_match({{ expression }}, '[0-9-]+ [0-9:]+[.][0-9]+ [+-][0-9]{4}')
            then strptime({{ expression }}, '%Y-%m-%d %H:%M:%S.%n %z')
        when regexp_full_match({{ expression }}, '[0-9-]+ [0-9:]+ [+-][0-9]{4}')
            then strptime({{ expression }}, '%Y-%m-%d %H:%M:%S %z')
        when regexp_matches({{ expression }}, '(Z|[+-][0-9]{2}:?[0-9]{2})$')
            then cast({{ expression }} as timestamp with time zone)
        else {{ turnaround.local_to_utc(expression, zone) }}
    end
{%- endmacro %}

{#- A Slurm duration `[D-]HH:MM:SS` in whole seconds; UNLIMITED, Partition_Limit and empty are
    NULL. -#}
{% macro slurm_duration_to_seconds(expression) -%}
    case
        when {{ expression }} in ('UNLIMITED', 'Partition_Limit', '') then null
        else
            coalesce(
                cast(nullif({{ turnaround.regex_extract(expression, '^([0-9]+)-', 1) }}, '')
                    as {{ dbt.type_bigint() }}),
                0
            ) * 86400
            + cast({{ turnaround.regex_extract(expression, '([0-9]+):[0-9]+:[0-9]+$', 1) }}
                as {{ dbt.type_bigint() }}) * 3600
            + cast({{ turnaround.regex_extract(expression, ':([0-9]+):[0-9]+$', 1) }}
                as {{ dbt.type_bigint() }}) * 60
            + cast({{ turnaround.regex_extract(expression, ':([0-9]+)$', 1) }}
                as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- PostgreSQL interval text as psql exports it (`HH:MM:SS[.frac]`, `N days HH:MM:SS`) in
    seconds; empty is NULL. -#}
{% macro interval_text_to_seconds(expression) -%}
    case
        when {{ expression }} = '' or {{ expression }} is null then null
        else
            coalesce(
                cast(nullif({{ turnaround.regex_extract(expression, '^([0-9]+) day', 1) }}, '')
                    as {{ turnaround.type_double() }}),
                0
            ) * 86400
            + cast({{ turnaround.regex_extract(expression, '([0-9]+):[0-9]+:[0-9.]+$', 1) }}
                as {{ turnaround.type_double() }}) * 3600
            + cast({{ turnaround.regex_extract(expression, ':([0-9]+):[0-9.]+$', 1) }}
                as {{ turnaround.type_double() }}) * 60
            + cast({{ turnaround.regex_extract(expression, ':([0-9.]+)$', 1) }}
                as {{ turnaround.type_double() }})
    end
{%- endmacro %}
