{{ config(materialized='view') }}
-- depends_on: {{ ref('fct_notifications_per_minute') }}

{#- The real-time tail: valid events landed beyond the offsets fct_notifications_per_minute has
    processed, minus redeliveries of messages it already counted. One row per delivery: a message
    redelivered within the tail appears twice, so count distinct message_id. The raw expression index
    on (customer_id, topic, partition, offset) keeps one customer's tail a few index probes. #}

with

events as (

    select * from {{ ref('stg_notifications__events') }}

),

offsets as (

    select * from {{ ref('stg_notifications__kafka_offsets') }}

),

notifications as (

    select * from {{ ref('fct_notifications') }}

),

rolled_up_offsets as (

    {{ kafka_offsets_processed_by('fct_notifications_per_minute') }}

),

-- every landed partition, from where the rollup stopped (0 when it never saw the partition)
tail_ranges as (

    select
        offsets.kafka_topic,
        offsets.kafka_partition,
        coalesce(rolled_up_offsets.next_offset, 0) as from_offset

    from offsets
    left join rolled_up_offsets
        on
            offsets.kafka_topic = rolled_up_offsets.kafka_topic
            and offsets.kafka_partition = rolled_up_offsets.kafka_partition

),

tail_events as (

    select events.*

    from tail_ranges
    inner join events
        on
            tail_ranges.kafka_topic = events.kafka_topic
            and tail_ranges.kafka_partition = events.kafka_partition
            and tail_ranges.from_offset <= events.kafka_offset
    where events.is_valid

),

-- a message whose first delivery lies below the rollup's offsets is already counted there
counted_redeliveries_removed as (

    select
        tail_events.message_id,
        tail_events.customer_id,
        tail_events.customer_name,
        tail_events.channel,
        tail_events.payload,
        tail_events.event_at,
        tail_events.kafka_topic,
        tail_events.kafka_partition,
        tail_events.kafka_offset

    from tail_events
    where not exists (
        select 1
        from notifications
        inner join rolled_up_offsets
            on
                notifications.kafka_topic = rolled_up_offsets.kafka_topic
                and notifications.kafka_partition = rolled_up_offsets.kafka_partition
        where
            notifications.message_id = tail_events.message_id
            and notifications.kafka_offset < rolled_up_offsets.next_offset
    )

)

select * from counted_redeliveries_removed
