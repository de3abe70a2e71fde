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

    select events.*

    from increment
    inner join events
        on
            increment.kafka_topic = events.kafka_topic
            and increment.kafka_partition = events.kafka_partition
            and increment.processed_offset <= events.kafka_offset
            and increment.target_offset > events.kafka_offset
    where events.is_valid

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
