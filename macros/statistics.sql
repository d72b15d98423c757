{#- Continuous (linearly interpolated) percentile, as pandas' quantile and numpy's default. -#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'turnaround')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- Mean and sample standard deviation that do not depend on the order of the rows: a float sum
    does (rounding), and a table need not hold its rows in the same order from one build (or
    one DuckDB version, or thread count) to the next, so the figures could differ in the last
    bit. -#}
{% macro ordered_avg(expression) -%}
    {{ return(adapter.dispatch('ordered_avg', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro default__ordered_avg(expression) -%}
    avg({{ expression }})
{%- endmacro %}

{% macro duckdb__ordered_avg(expression) -%}
    avg({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- the sorted sum over the count (NULL when there is none, as avg) -#}
{% macro spark__ordered_avg(expression) -%}
    {{ turnaround.spark__ordered_sum(expression) }} / count({{ expression }})
{%- endmacro %}

{#- A sum that does not depend on the order of the rows (see ordered_avg). -#}
{% macro ordered_sum(expression) -%}
    {{ return(adapter.dispatch('ordered_sum', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro default__ordered_sum(expression) -%}
    sum({{ expression }})
{%- endmacro %}

{% macro duckdb__ordered_sum(expression) -%}
    sum({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- Spark has no ORDER BY inside an aggregate: the values sorted into an array and summed in
    that order (NULL when there is none, as sum) -#}
{% macro spark__ordered_sum(expression) -%}
    case
        when count({{ expression }}) > 0 then
            aggregate(
                array_sort(collect_list(cast({{ expression }} as double))),
                cast(0 as double),
                (total, value) -> total + value
            )
    end
{%- endmacro %}

{% macro ordered_stddev_samp(expression) -%}
    {{ return(adapter.dispatch('ordered_stddev_samp', 'turnaround')(expression)) }}
{%- endmacro %}

{% macro default__ordered_stddev_samp(expression) -%}
    stddev_samp({{ expression }})
{%- endmacro %}

{% macro duckdb__ordered_stddev_samp(expression) -%}
    stddev_samp({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- Welford's update over the sorted values (NULL below two, as stddev_samp) -#}
{% macro spark__ordered_stddev_samp(expression) -%}
    aggregate(
        array_sort(collect_list(cast({{ expression }} as double))),
        named_struct('n', cast(0 as bigint), 'mean', cast(0 as double), 'm2', cast(0 as double)),
        (state, value) -> named_struct(
            'n', state.n + 1,
            'mean', state.mean + (value - state.mean) / (state.n + 1),
            'm2', state.m2
            + (value - state.mean) * (value - (state.mean + (value - state.mean) / (state.n + 1)))
        ),
        state -> case when state.n > 1 then sqrt(state.m2 / (state.n - 1)) end
    )
{%- endmacro %}

{#- The statistic columns shared by time_to_data_stats and queue_time_stats. -#}
{% macro summary_statistics(expression) -%}
    count({{ expression }}) as n,
    {{ turnaround.ordered_avg(expression) }} as mean_s,
    {{ turnaround.ordered_stddev_samp(expression) }} as std_s,
    {{ turnaround.percentile_cont(expression, 0.5) }} as median_s,
    cast(min({{ expression }}) as {{ turnaround.type_double() }}) as min_s,
    cast(max({{ expression }}) as {{ turnaround.type_double() }}) as max_s,
    {{ turnaround.percentile_cont(expression, 0.25) }} as p25_s,
    {{ turnaround.percentile_cont(expression, 0.75) }} as p75_s,
    {{ turnaround.percentile_cont(expression, 0.9) }} as p90_s,
    {{ turnaround.percentile_cont(expression, 0.99) }} as p99_s
{%- endmacro %}

{#- Rows of `relation` with `is_outlier`: outside [Q1 - k IQR, Q3 + k IQR] within the group
    (Tukey's rule, interpolated quartiles; k is var outlier_iqr_factor). -#}
{% macro flag_iqr_outliers(relation, value_column, partition_by=[]) -%}
    {%- set k = var('outlier_iqr_factor') -%}
    with

    samples as (
        select * from {{ relation }}
    ),

    quartiles as (
        select
            {% for column in partition_by %}{{ column }},{% endfor %}
            {{ turnaround.percentile_cont(value_column, 0.25) }} as q1,
            {{ turnaround.percentile_cont(value_column, 0.75) }} as q3
        from samples
        {% if partition_by %}group by {{ partition_by | join(', ') }}{% endif %}
    ),

    flagged as (
        select
            samples.*,
            coalesce(
                samples.{{ value_column }} < quartiles.q1 - {{ k }} * (quartiles.q3 - quartiles.q1)
                or samples.{{ value_column }} > quartiles.q3 + {{ k }} * (quartiles.q3 - quartiles.q1),
                false
            ) as is_outlier
        from samples
        {% if partition_by %}
        inner join quartiles
            on {% for column in partition_by %}samples.{{ column }} = quartiles.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
        {% else %}
        cross join quartiles
        {% endif %}
    )

    select * from flagged
{%- endmacro %}

{#- An 8-byte float. dbt.type_float() is `float`, which DuckDB reads as 4-byte REAL and which
    loses the published figures at the 8th digit. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'turnaround')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Summary statistics of `value_column` per group, once over every row (`outliers` =
    'included') and once over the rows not flagged `is_outlier` ('removed'). -#}
{% macro statistics_with_and_without_outliers(relation, value_column, group_by=[]) -%}
    {%- for outliers in ['included', 'removed'] %}
    select
        {% for column in group_by %}{{ column }},
        {% endfor %}'{{ outliers }}' as outliers,
        {{ turnaround.summary_statistics(value_column) }}
    from {{ relation }}
    {% if outliers == 'removed' %}where not is_outlier{% endif %}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
