{#- A quoted SQL list of strings: ('a', 'b'). -#}
{% macro sql_list(values) -%}
    ({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- A sacct time (naive, in the row's zone) as UTC; Unknown/None/empty become NULL. -#}
{% macro slurm_time_to_utc(column) -%}
    case
        when {{ column }} in {{ turnaround.sql_list(var('slurm_unknown_times')) }} then null
        else {{ turnaround.local_to_utc(column, turnaround.row_zone()) }}
    end
{%- endmacro %}

{#- A SQL string literal of `value`, quotes doubled. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- True when `column` contains `text` literally (no LIKE wildcards: `_` is just `_`). -#}
{% macro contains_text(column, text) -%}
    ({{ dbt.position(turnaround.sql_string(text), column) }} > 0)
{%- endmacro %}
