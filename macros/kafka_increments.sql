{#- Incremental processing by Kafka offsets, never by time (loaded_at is not monotonic in commit
    order). A model that consumes a Kafka-fed relation keeps, per topic and partition, the offset
    below which it has processed everything, in int_kafka_offsets_processed. One run:
      pre-hook   kafka_increment_begin(...)  snapshots the upstream's next offsets as this run's target
      model      joins its input to kafka_increment(): offsets in [processed_offset, target_offset)
      post-hook  kafka_increment_end()       processed_offset := target_offset
    Hooks and model share one transaction: a failed run changes nothing, and a second concurrent run
    of the model waits on the state rows, then sees the first one's offsets. -#}

{#- Upstream offsets: either `offsets`, a relation with (kafka_topic, kafka_partition, next_offset)
    such as the loader's committed offsets, or `after`, the name of another offset-incremental model
    whose processed offsets bound this one (the caller refs it: `-- depends_on:`). State rows are keyed
    by model name (the relation identifier of the model, which unit tests keep). -#}
{% macro kafka_increment_begin(offsets=none, after=none) -%}
    {%- set state = ref('int_kafka_offsets_processed') -%}
    {%- if (offsets is none) == (after is none) -%}
        {{ exceptions.raise_compiler_error("kafka_increment_begin needs exactly one of offsets= or after=") }}
    {%- endif -%}
    {%- set upstream = offsets if offsets is not none else '(' ~ kafka_offsets_processed_by(after) ~ ')' -%}
    {%- if not is_incremental() %}
        -- a first build or a full refresh starts over from offset 0
        delete from {{ state }} where model_name = {{ sql_literal(this.identifier) }};
    {%- endif %}
    insert into {{ state }} (model_name, kafka_topic, kafka_partition, processed_offset, target_offset, processed_at)
    select {{ sql_literal(this.identifier) }}, upstream.kafka_topic, upstream.kafka_partition, 0, upstream.next_offset, null
    from {{ upstream }} as upstream
    on conflict (model_name, kafka_topic, kafka_partition)
    do update set target_offset = excluded.target_offset
{%- endmacro %}

{% macro kafka_increment_end() -%}
    update {{ ref('int_kafka_offsets_processed') }}
    set processed_offset = target_offset, processed_at = now()
    where model_name = {{ sql_literal(this.identifier) }}
{%- endmacro %}

{#- This run's offset range per partition: join the model's input to it. The model passes its own
    name because unit tests render `this` without one. -#}
{% macro kafka_increment(model_name) -%}
    {%- if this.identifier and this.identifier != model_name -%}
        {{ exceptions.raise_compiler_error("kafka_increment('" ~ model_name ~ "') called in " ~ this.identifier) }}
    {%- endif -%}
    select kafka_topic, kafka_partition, processed_offset, target_offset
    from {{ ref('int_kafka_offsets_processed') }}
    where model_name = {{ sql_literal(model_name) }}
{%- endmacro %}

{#- The offsets below which the model named `model_name` has processed everything, as next_offset. -#}
{% macro kafka_offsets_processed_by(model_name) -%}
    select kafka_topic, kafka_partition, processed_offset as next_offset
    from {{ ref('int_kafka_offsets_processed') }}
    where model_name = {{ sql_literal(model_name) }}
{%- endmacro %}
