{#- This run's range per partition: join the model's input to it. A model downstream of another
    also reads only the upstream's batches (processed_batch_id, target_batch_id]: the offsets decide
    what is new (a full refresh of the upstream re-stores old offsets in a new batch), the batches
    make it one range of the upstream's batch_id index. The model passes its own name because unit
    tests render `this` without one. -#}
{% macro kafka_increment(model_name) -%}
    {%- if this.identifier and this.identifier != model_name -%}
        {{ exceptions.raise_compiler_error("kafka_increment('" ~ model_name ~ "') called in " ~ this.identifier) }}
    {%- endif -%}
    select kafka_topic, kafka_partition, processed_offset, target_offset, processed_batch_id, target_batch_id
    from {{ ref('int_kafka_offsets_processed') }}
    where model_name = {{ sql_literal(model_name) }}
{%- endmacro %}
