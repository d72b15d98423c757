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

{#- Spark's to_utc_timestamp reads the wall time as UTC (the session's zone, see profiles.yml)
    and shifts it; a time in the repeated autumn hour comes out as the earlier (summer-time)
    instant, DuckDB's ICU gives the later (standard-time) one (docs/decisions.md, "Naive times
    in the repeated autumn hour"). The later candidate is the wall time less the offset a day
    on; it is taken when it reads back as the same wall time. A time in the spring gap moves
    forward by the gap on both engines. -#}
{% macro spark__local_to_utc(expression, zone=none) -%}
    {%- set zone = zone or turnaround.facility_zone() -%}
    {%- set wall = 'cast(' ~ expression ~ ' as timestamp)' -%}
    {%- set earlier = 'to_utc_timestamp(' ~ wall ~ ', ' ~ zone ~ ')' -%}
    {%- set later =
        'to_utc_timestamp(' ~ wall ~ ' + interval 1 day, ' ~ zone ~ ') - interval 1 day' -%}
    case
        when from_utc_timestamp({{ later }}, {{ zone }}) = {{ wall }}
            then greatest({{ earlier }}, {{ later }})
        else {{ earlier }}
    end
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

{#- ISO 8601 text with an offset or `Z` (or stat's %y form, `2023-10-16 08:30:45.123456789
    -0700`) as an instant, to the microsecond: a finer fraction is rounded half up
    (fraction_microseconds), the same on every engine (their casts would truncate it). -#}
{% macro parse_aware_timestamp(expression) -%}
    {{ turnaround.add_microseconds(
        'cast(' ~ turnaround.whole_seconds_with_offset(expression) ~ ' as '
        ~ turnaround.type_instant() ~ ')',
        turnaround.fraction_microseconds(expression)
    ) }}
{%- endmacro %}

{#- An aware time text without its fraction of a second and without a space before its offset:
    `2023-10-16 08:30:45-0700`, `2023-10-16T15:30:45Z`; both engines cast that. -#}
{% macro whole_seconds_with_offset(expression) -%}
    {%- set date_time = '^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2})' -%}
    ({{ turnaround.regex_extract(expression, date_time, 1) }}
    || {{ turnaround.regex_extract(expression, '(Z|[+-][0-9]{2}:?[0-9]{2})$', 1) }})
{%- endmacro %}

{#- The fraction of a second of a time text (`.0000005` in `...:45.0000005Z`, `1697470245.4999996`)
    in whole microseconds, rounded half up: its first six digits, plus one when the seventh is 5
    or more (the seventh digit alone decides a half-up rounding). 0 without a fraction, 1000000
    for `.9999995` and up (the next second). Text and integer arithmetic only, so every engine
    gives the same microsecond. -#}
{% macro fraction_microseconds(expression) -%}
    {%- set digits =
        "rpad(" ~ turnaround.regex_extract(expression, '[.]([0-9]+)', 1) ~ ", 7, '0')" -%}
    (cast(substr({{ digits }}, 1, 6) as {{ dbt.type_bigint() }})
    + case when substr({{ digits }}, 7, 1) >= '5' then 1 else 0 end)
{%- endmacro %}

{#- Epoch seconds as text (`1697470245`, `1697470245.123456789`) as an instant, the fraction
    rounded half up to the microsecond (fraction_microseconds). -#}
{% macro parse_epoch_seconds(expression) -%}
    {{ turnaround.epoch_microseconds_to_timestamp(
        'cast(' ~ turnaround.regex_extract(expression, '^([0-9]+)', 1) ~ ' as ' ~ dbt.type_bigint()
        ~ ') * 1000000 + ' ~ turnaround.fraction_microseconds(expression)
    ) }}
{%- endmacro %}

{#- The instant a number of microseconds after 1970-01-01 00:00:00 UTC. -#}
{% macro epoch_microseconds_to_timestamp(expression) -%}
    {{ return(adapter.dispatch('epoch_microseconds_to_timestamp', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro duckdb__epoch_microseconds_to_timestamp(expression) -%}
    (to_timestamp(0) + to_microseconds({{ expression }}))
{%- endmacro %}

{% macro spark__epoch_microseconds_to_timestamp(expression) -%}
    timestamp_micros({{ expression }})
{%- endmacro %}

{#- An instant moved by a whole number of microseconds. -#}
{% macro add_microseconds(timestamp, microseconds) -%}
    {{ return(adapter.dispatch('add_microseconds', 'turnaround')(timestamp, microseconds)) }}
{%- endmacro %}

{% macro duckdb__add_microseconds(timestamp, microseconds) -%}
    ({{ timestamp }} + to_microseconds({{ microseconds }}))
{%- endmacro %}

{% macro spark__add_microseconds(timestamp, microseconds) -%}
    timestamp_micros(unix_micros({{ timestamp }}) + {{ microseconds }})
{%- endmacro %}

{#- An instant moved by a number of seconds (a constant or an expression; whole or not). -#}
{% macro add_seconds(timestamp, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'turnaround')(timestamp, seconds)) }}
{%- endmacro %}

{% macro duckdb__add_seconds(timestamp, seconds) -%}
    {{ dbt.dateadd('second', seconds, timestamp) }}
{%- endmacro %}

{#- not dbt.dateadd: dbt-spark's goes through whole epoch seconds (it drops the fraction) and
    fails on NULL -#}
{% macro spark__add_seconds(timestamp, seconds) -%}
    timestamp_micros(
        unix_micros({{ timestamp }}) + cast(({{ seconds }}) * 1000000 as {{ dbt.type_bigint() }})
    )
{%- endmacro %}

{#- A date moved by a number of days. -#}
{% macro add_days(date, days) -%}
    {{ return(adapter.dispatch('add_days', 'turnaround')(date, days)) }}
{%- endmacro %}

{% macro duckdb__add_days(date, days) -%}
    cast({{ dbt.dateadd('day', days, date) }} as date)
{%- endmacro %}

{#- not dbt.dateadd: dbt-spark's fails on a NULL date -#}
{% macro spark__add_days(date, days) -%}
    date_add({{ date }}, {{ days }})
{%- endmacro %}

{#- Days from one date to another (negative when `end` is earlier). -#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'turnaround')(start, end)) }}
{%- endmacro %}

{% macro duckdb__days_between(start, end) -%}
    {{ dbt.datediff(start, end, 'day') }}
{%- endmacro %}

{#- not dbt.datediff: dbt-spark's fails on a NULL date -#}
{% macro spark__days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}

{#- The type of an instant (a UTC timestamp): the mart contracts' `timestamp with time zone`. -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'turnaround')()) }}
{%- endmacro %}

{% macro duckdb__type_instant() -%}
    timestamp with time zone
{%- endmacro %}

{#- Spark's `timestamp` is an instant (TIMESTAMP_LTZ); its naive one is `timestamp_ntz` -#}
{% macro spark__type_instant() -%}
    timestamp
{%- endmacro %}

{#- dbt's cast(), which types the columns of a model contract: the contracts name an instant
    `timestamp with time zone` (DuckDB's, and standard SQL's), on Spark type_instant(). This
    project's spark__cast comes before dbt's in the dispatch of `cast`. -#}
{% macro spark__cast(field, type) -%}
    {%- if type | lower | trim == 'timestamp with time zone' -%}
        {%- set type = turnaround.type_instant() -%}
    {%- endif -%}
    cast({{ field }} as {{ type }})
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

{#- from_utc_timestamp gives the local wall time as a timestamp read in UTC, the session's zone -#}
{% macro spark__utc_to_local_date(expression) -%}
    cast(from_utc_timestamp({{ expression }}, '{{ var("timezone") }}') as date)
{%- endmacro %}

{#- Seconds from one instant to another, fractions kept (negative when `end` is earlier): the
    exact difference in microseconds, divided once. (A difference of epoch seconds as doubles
    would be off by up to 2.4e-7 s for times of this century.) -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'turnaround')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    extract(epoch from ({{ end }} - {{ start }}))
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    (cast(epoch_us({{ end }}) - epoch_us({{ start }}) as double) / 1000000)
{%- endmacro %}

{% macro spark__seconds_between(start, end) -%}
    (cast(unix_micros({{ end }}) - unix_micros({{ start }}) as double) / 1000000)
{%- endmacro %}

{#- Whole seconds from one instant to another, as the second boundaries between them (the
    difference of sacct's whole-second times), a bigint. -#}
{% macro whole_seconds_between(start, end) -%}
    {{ return(adapter.dispatch('whole_seconds_between', 'turnaround')(start, end)) }}
{%- endmacro %}

{% macro duckdb__whole_seconds_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }}
{%- endmacro %}

{#- not dbt.datediff: dbt-spark's fails on a NULL time -#}
{% macro spark__whole_seconds_between(start, end) -%}
    (unix_seconds({{ end }}) - unix_seconds({{ start }}))
{%- endmacro %}

{#- A file mtime as loaded: epoch seconds, stat's %y form with offset, ISO 8601 with offset,
    or a naive facility-local time; to the microsecond, a finer fraction rounded half up. -#}
{% macro parse_file_mtime(expression, zone=none) -%}
    case
        when {{ turnaround.regex_matches(expression, '^[0-9]+([.][0-9]+)?$') }}
            then {{ turnaround.parse_epoch_seconds(expression) }}
        when {{ turnaround.regex_matches(expression, '(Z|[+-][0-9]{2}:?[0-9]{2})$') }}
            then {{ turnaround.parse_aware_timestamp(expression) }}
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
