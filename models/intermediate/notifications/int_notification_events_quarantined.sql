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
        in_range.kafka_topic,
        in_range.kafka_partition,
        in_range.kafka_offset,
        in_range.kafka_timestamp,
        in_range.loaded_at,
        in_range.event_json,
        in_range.invalid_reason

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
    where not in_range.is_valid

)

select * from invalid_events_selected
