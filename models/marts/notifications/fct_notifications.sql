{{
    config(
        materialized='incremental',
        incremental_strategy='upsert',
        unique_key='message_id',
        indexes=[
            {'columns': ['message_id'], 'unique': true},
            {'columns': ['customer_id', 'channel', 'event_at']},
            {'columns': ['kafka_topic', 'kafka_partition', 'kafka_offset'], 'unique': true},
        ],
        pre_hook="{{ kafka_increment_begin(offsets=ref('stg_notifications__kafka_offsets')) }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}
-- depends_on: {{ ref('stg_notifications__kafka_offsets') }}

{#- One row per message_id: its first valid delivery. A redelivery repeats the event, so within a
    run the lowest offset wins and across runs the upsert skips ids already stored. #}

with

events as (

    select * from {{ ref('stg_notifications__events') }}

),

increment as (

    {{ kafka_increment('fct_notifications') }}

),

new_events as (

    select in_range.*

    -- per partition an index range scan on (topic, partition, offset): `offset 0` keeps the planner
    -- from flattening the lateral into a join that may scan every row ever landed
    from increment
    cross join
        lateral (
            select events.*
            from events
            where
                events.kafka_topic = increment.kafka_topic
                and events.kafka_partition = increment.kafka_partition
                and events.kafka_offset >= increment.processed_offset
                and events.kafka_offset < increment.target_offset
            order by events.kafka_offset
            offset 0
        ) as in_range
    where in_range.is_valid

),

deduplicated as (

    select distinct on (message_id)
        message_id,
        customer_id,
        customer_name,
        channel,
        payload,
        event_at,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        loaded_at

    from new_events
    order by message_id asc, kafka_topic asc, kafka_partition asc, kafka_offset asc

)

select * from deduplicated
