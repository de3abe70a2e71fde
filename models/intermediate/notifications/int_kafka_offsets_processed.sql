{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['model_name', 'kafka_topic', 'kafka_partition'], 'unique': true}],
    )
}}

{#- The offset state of the models that process Kafka data incrementally (macros/kafka/).
    Only their hooks write rows; this model owns the table, so it never selects any. A full refresh
    would forget every consumer's progress: it is disabled here, reset a consumer by refreshing it.
    Untagged: deployment (`warehouse build`) creates it, so the minutely run does not pay for a no-op. #}

select
    cast(null as text) as model_name,
    cast(null as text) as kafka_topic,
    cast(null as integer) as kafka_partition,
    cast(null as bigint) as processed_offset,
    cast(null as bigint) as target_offset,
    cast(null as timestamptz) as processed_at,
    cast(null as bigint) as processed_batch_id,
    cast(null as bigint) as target_batch_id
where false
