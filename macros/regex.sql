{#- Regular expressions differ across engines: one dispatch macro each. -#}

{% macro regex_extract(expression, pattern, group) -%}
    {{ return(adapter.dispatch('regex_extract', 'turnaround')(expression, pattern, group)) }}
{%- endmacro %}

{% macro default__regex_extract(expression, pattern, group) -%}
    (regexp_match({{ expression }}, '{{ pattern }}'))[{{ group }}]
{%- endmacro %}

{% macro duckdb__regex_extract(expression, pattern, group) -%}
    regexp_extract({{ expression }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{#- Spark's regexp_extract gives '' when the text does not match, as DuckDB's -#}
{% macro spark__regex_extract(expression, pattern, group) -%}
    regexp_extract({{ expression }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{#- True when the pattern matches somewhere in the text (anchor it with ^...$ for the whole). -#}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'turnaround')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}
