{#- Longest accepted value of a notification field that is part of a unique key, in characters
    (4 bytes at most each, well within the 2,704 bytes of a btree entry). -#}
{% macro notification_max_length(field) -%}
    {{ return({'message_id': 200, 'channel': 64}[field]) }}
{%- endmacro %}
