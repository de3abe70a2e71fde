{#- The type of a pivot view's column, from the reported answers of its key (`boolean_sql`,
    `number_sql`: their answer_boolean, answer_number): boolean when every one is a yes / no word,
    bigint when every one is an integer in bigint's range, numeric when every one is a number,
    else text. An aggregate: use it grouped by flow and key. -#}
{% macro chatbot_column_type(boolean_sql, number_sql) -%}
    case
        when bool_and({{ boolean_sql }} is not null) then 'boolean'
        when
            bool_and(
                coalesce(
                    scale({{ number_sql }}) = 0
                    and {{ number_sql }} between -9223372036854775808 and 9223372036854775807,
                    false
                )
            )
            then 'bigint'
        when bool_and({{ number_sql }} is not null) then 'numeric'
        else 'text'
    end
{%- endmacro %}
