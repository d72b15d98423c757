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
