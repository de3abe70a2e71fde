{% macro kafka_increment_end() -%}
    update {{ ref('int_kafka_offsets_processed') }}
    set processed_offset = target_offset, processed_batch_id = target_batch_id, processed_at = now()
    where model_name = {{ sql_literal(this.identifier) }}
{%- endmacro %}
