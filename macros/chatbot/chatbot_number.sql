{#- For a trimmed answer: its value as numeric when it is a plain decimal number (ASCII digits, an
    optional minus sign and fraction: 9, -3, 9.5, 0.25), else null. A leading zero ("007", "01310")
    marks a code, not a number, and stays text, as do exponents, "NaN" and "Infinity". -#}
{% macro chatbot_number(trimmed_sql) -%}
    case
        when
            {{ trimmed_sql }} ~ '^-?(0|[1-9][0-9]*)([.][0-9]+)?$'
            and pg_input_is_valid({{ trimmed_sql }}, 'numeric')
            then cast({{ trimmed_sql }} as numeric)
    end
{%- endmacro %}
