{#- Generic tests written here because dbt packages cannot be installed offline. -#}

{#- Rows where the column lies outside [min_value, max_value] (either bound optional). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- set lower = '>=' if inclusive else '>' -%}
    {%- set upper = '<=' if inclusive else '<' -%}
    select *
    from {{ model }}
    where {{ column_name }} is not null
        and not (
            true
            {% if min_value is not none %} and {{ column_name }} {{ lower }} {{ min_value }}{% endif %}
            {% if max_value is not none %} and {{ column_name }} {{ upper }} {{ max_value }}{% endif %}
        )
{% endtest %}

{#- Combinations of the columns that occur more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Rows for which a boolean SQL expression is false. -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {% if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}

{#- Fails when the model has fewer rows than `min_rows`. -#}
{% test has_at_least_rows(model, min_rows=1, column_name=none) %}
    select n
    from (select count(*) as n from {{ model }}) as counted
    where n < {{ min_rows }}
{% endtest %}

{#- Like `relationships`, comparing the two keys as text: Slurm job ids are text in staging
    (`123_4`, `123+0`) and numbers in the marts, and a cast of the text would read `123_4` as
    1234. -#}
{% test relationships_as_text(model, column_name, to, field) %}
    select child.{{ column_name }}
    from {{ model }} as child
    left join {{ to }} as parent
        on cast(child.{{ column_name }} as {{ dbt.type_string() }})
        = cast(parent.{{ field }} as {{ dbt.type_string() }})
    where child.{{ column_name }} is not null
        and parent.{{ field }} is null
{% endtest %}

{#- Rows whose `column_name` lies outside the plausible range the seed `plausible_times` gives
    for their scan size and `measure` (a size missing from the seed is not checked). -#}
{% test within_plausible_times(model, column_name, measure) %}
    select
        checked.scan_size,
        checked.{{ column_name }},
        bounds.min_s,
        bounds.max_s
    from {{ model }} as checked
    inner join {{ ref('plausible_times') }} as bounds
        on checked.scan_size = bounds.scan_size
        and bounds.measure = '{{ measure }}'
    where checked.{{ column_name }} < bounds.min_s
        or checked.{{ column_name }} > bounds.max_s
{% endtest %}
