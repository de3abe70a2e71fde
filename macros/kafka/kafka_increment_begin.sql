{#- Upstream offsets: either `offsets`, a relation with (kafka_topic, kafka_partition, next_offset)
    such as the loader's committed offsets, or `after`, the name of another offset-incremental model
    whose processed offsets and batches bound this one (the caller refs it: `-- depends_on:`). State
    rows are keyed by model name (the relation identifier of the model, which unit tests keep). -#}
{% macro kafka_increment_begin(offsets=none, after=none) -%}
    {%- set state = ref('int_kafka_offsets_processed') -%}
    {%- set model = sql_literal(this.identifier) -%}
    {%- if (offsets is none) == (after is none) -%}
        {{ exceptions.raise_compiler_error("kafka_increment_begin needs exactly one of offsets= or after=") }}
    {%- endif -%}
    {%- if offsets is not none -%}
        {%- set upstream = offsets -%}
        {%- set target_batch -%}
            select coalesce(max(processed_batch_id), 0) + 1 from {{ state }} where model_name = {{ model }}
        {%- endset -%}
    {%- else -%}
        {%- set upstream = '(' ~ kafka_offsets_processed_by(after) ~ ')' -%}
        {%- set target_batch -%}
            select coalesce(max(processed_batch_id), 0) from {{ state }} where model_name = {{ sql_literal(after) }}
        {%- endset -%}
    {%- endif -%}
    -- one run of the model at a time: the statements below read the state the previous run committed
    {{ pipeline_lock('kafka_increment:' ~ this.identifier) }};
    {%- if not is_incremental() %}
    -- a first build or a full refresh starts over from offset 0 (and from the upstream's first batch);
    -- the batches of a model reading raw offsets keep their numbers growing for the models after it
    update {{ state }}
    set processed_offset = 0 {%- if after is not none %}, processed_batch_id = 0 {%- endif %}
    where model_name = {{ model }};
    {%- endif %}
    insert into {{ state }} as state (
        model_name, kafka_topic, kafka_partition,
        processed_offset, target_offset, processed_batch_id, target_batch_id, processed_at
    )
    select {{ model }}, upstream.kafka_topic, upstream.kafka_partition, 0, upstream.next_offset, 0, batch.id, null
    from {{ upstream }} as upstream
    cross join ({{ target_batch }}) as batch (id)
    on conflict (model_name, kafka_topic, kafka_partition)
    -- never below what is processed (after a full refresh of the upstream, it may trail this model)
    do update set
        target_offset = greatest(excluded.target_offset, state.processed_offset),
        target_batch_id = greatest(excluded.target_batch_id, state.processed_batch_id)
{%- endmacro %}
