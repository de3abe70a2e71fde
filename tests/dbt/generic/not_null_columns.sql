{#- not_null for several columns in one scan: on tables of millions of rows one test per column
    costs a full scan each. -#}
{% test not_null_columns(model, columns) %}

select *
from {{ model }}
where
    {% for column in columns -%}
        {{ column }} is null{{ ' or' if not loop.last }}
    {% endfor %}

{% endtest %}
