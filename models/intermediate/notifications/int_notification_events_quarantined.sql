{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['kafka_topic', 'kafka_partition', 'kafka_offset'], 'unique': true}],
        pre_hook="{{ kafka_increment_begin(offsets=ref('stg_notifications__kafka_offsets')) }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}
-- depends_on: {{ ref('stg_notifications__kafka_offsets') }}

with

events as (

    select * from {{ ref('stg_notifications__events') }}

),

increment as (

    {{ kafka_increment('int_notification_events_quarantined') }}

),

invalid_events_selected as (

    select
        events.kafka_topic,
        events.kafka_partition,
        events.kafka_offset,
        events.kafka_timestamp,
        events.loaded_at,
        events.event_json,
        events.invalid_reason

    from increment
    inner join events
        on
            increment.kafka_topic = events.kafka_topic
            and increment.kafka_partition = events.kafka_partition
            and increment.processed_offset <= events.kafka_offset
            and increment.target_offset > events.kafka_offset
    where not events.is_valid

)

select * from invalid_events_selected
