{% macro chatbot_is_fixed_column(text_sql) -%}
    {{ text_sql }} in (
        {%- for column in chatbot_fixed_columns() -%}
            '{{ column }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}
