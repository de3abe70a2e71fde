{#- The pivot views' fixed columns (view column: fct_chatbot_conversations column), in order.
    A key with one of these names becomes answer_<key>. -#}
{% macro chatbot_fixed_columns() -%}
    {{ return({
        'customer': 'customer_id',
        'flow': 'flow_id',
        'session': 'session_id',
        'first_answer_dt': 'first_answer_at',
        'last_answer_dt': 'last_answer_at',
    }) }}
{%- endmacro %}
