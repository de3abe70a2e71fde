{{ config(materialized='view') }}

{#- The billing ledger's increment, per partition: the rolled-up notifications it has not looked at
    yet, from where it last checked (stg_ops__billing_checked_offsets; 0 for a partition new to it) to
    what the rollup has processed (notification_rollup_offsets_model), with the batches between, in
    the columns kafka_increment_rows reads. The service notes the days they fall on, then stores the
    target as checked (loader/ops.py). #}

with

offsets_processed as (

    select * from {{ ref('int_kafka_offsets_processed') }}

),

checked_offsets as (

    select * from {{ ref('stg_ops__billing_checked_offsets') }}

),

ranges as (

    select
        offsets_processed.kafka_topic,
        offsets_processed.kafka_partition,
        coalesce(checked_offsets.checked_offset, 0) as processed_offset,
        offsets_processed.processed_offset as target_offset,
        coalesce(checked_offsets.checked_batch_id, 0) as processed_batch_id,
        coalesce(offsets_processed.processed_batch_id, 0) as target_batch_id

    from offsets_processed
    left join checked_offsets
        on
            offsets_processed.kafka_topic = checked_offsets.kafka_topic
            and offsets_processed.kafka_partition = checked_offsets.kafka_partition
    where offsets_processed.model_name = {{ sql_literal(notification_rollup_offsets_model()) }}

)

select * from ranges
