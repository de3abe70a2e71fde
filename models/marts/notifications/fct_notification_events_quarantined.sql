{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['kafka_topic', 'kafka_partition', 'kafka_offset'], 'unique': true}],
        pre_hook="{{ kafka_increment_begin(after='fct_notifications') }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}

{#- Landed messages the warehouse cannot use, with the reason. Up to where fct_notifications has
    processed, every offset is either stored there (a valid event's first delivery) or looked at
    here, so only the few others (invalid events, redeliveries) are typed a second time: the minutely
    run types each event once, and this model runs next to the rollup instead of competing with
    fct_notifications for the CPU. #}

with

events as (

    select * from {{ ref('stg_notifications__events') }}

),

notifications as (

    select * from {{ ref('fct_notifications') }}

),

increment as (

    {{ kafka_increment('fct_notification_events_quarantined') }}

),

offsets_not_stored as (

    select
        increment.kafka_topic,
        increment.kafka_partition,
        new_offsets.kafka_offset

    from increment
    cross join
        lateral generate_series(
            increment.processed_offset, increment.target_offset - 1
        ) as new_offsets (kafka_offset)
    where not exists (
        -- the batches fct_notifications stored since this model's previous run: one index range. A
        -- probe per offset, not kafka_increment_rows' join: as an anti-join of every new offset
        -- against the stored rows the planner chose a nested loop that took minutes at 150,000 rows
        select 1
        from notifications
        where
            notifications.batch_id > (select max(this_run.processed_batch_id) from increment as this_run)
            and notifications.batch_id <= (select max(this_run.target_batch_id) from increment as this_run)
            and notifications.kafka_topic = increment.kafka_topic
            and notifications.kafka_partition = increment.kafka_partition
            and notifications.kafka_offset = new_offsets.kafka_offset
    )

),

invalid_events_selected as (

    select
        not_stored.kafka_topic,
        not_stored.kafka_partition,
        not_stored.kafka_offset,
        not_stored.kafka_timestamp,
        not_stored.loaded_at,
        not_stored.event_json,
        not_stored.invalid_reason

    -- a primary-key lookup per offset: `offset 0` keeps the planner from flattening the lateral into
    -- a join that may scan every row ever landed
    from offsets_not_stored
    cross join
        lateral (
            select
                events.kafka_topic,
                events.kafka_partition,
                events.kafka_offset,
                events.kafka_timestamp,
                events.loaded_at,
                events.event_json,
                events.invalid_reason
            from events
            where
                events.kafka_topic = offsets_not_stored.kafka_topic
                and events.kafka_partition = offsets_not_stored.kafka_partition
                and events.kafka_offset = offsets_not_stored.kafka_offset
            offset 0  -- noqa: AM09
        ) as not_stored
    where not_stored.invalid_reason is not null

)

select * from invalid_events_selected
