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

{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'turnaround')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}
