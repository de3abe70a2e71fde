{{ config(materialized='view') }}

{#- The raw tail, per partition: offsets from where fct_notifications_per_minute stopped (0 when it
    never saw the partition) up to the loader's next offset. Rows there are landed but not rolled up:
    the panel adds them to the rollup so it is as fresh as the loader's last commit. On the timescale
    target the rollup is a real-time continuous aggregate: the tail starts where fct_notifications
    stopped (notification_rollup_offsets_model). It reads the rollup's progress in
    int_kafka_offsets_processed, never the rollup itself, so it depends on no mart. #}

with

offsets as (

    select * from {{ ref('stg_notifications__kafka_offsets') }}

),

rolled_up_offsets as (

    {{ kafka_offsets_processed_by(notification_rollup_offsets_model()) }}

),

ranges as (

    select
        offsets.kafka_topic,
        offsets.kafka_partition,
        coalesce(rolled_up_offsets.next_offset, 0) as from_offset,
        offsets.next_offset as to_offset

    from offsets
    left join rolled_up_offsets
        on
            offsets.kafka_topic = rolled_up_offsets.kafka_topic
            and offsets.kafka_partition = rolled_up_offsets.kafka_partition

)

select * from ranges
