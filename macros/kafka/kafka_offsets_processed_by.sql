{#- The offsets below which the model named `model_name` has processed everything, as next_offset. -#}
{% macro kafka_offsets_processed_by(model_name) -%}
    select kafka_topic, kafka_partition, processed_offset as next_offset
    from {{ ref('int_kafka_offsets_processed') }}
    where model_name = {{ sql_literal(model_name) }}
{%- endmacro %}
