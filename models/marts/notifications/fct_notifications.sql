{{
    config(
        materialized='incremental',
        incremental_strategy='upsert' if is_timescale() else 'append',
        unique_key=['customer_id', 'event_at', 'message_id'],
        indexes=[
            {'columns': ['customer_id', 'event_at', 'message_id'], 'unique': true},
            {'columns': ['batch_id']},
        ],
        pre_hook="{{ kafka_increment_begin(offsets=ref('stg_notifications__kafka_offsets')) }}",
        post_hook="{{ kafka_increment_end() }}",
        tags=['minutely'],
    )
}}
-- depends_on: {{ ref('stg_notifications__kafka_offsets') }}

{#- One row per event: its first valid delivery. A redelivery repeats the event, so the key is the
    event's (customer_id, event_at, message_id): within a run the lowest offset wins, and events that
    earlier runs stored are left out. On PostgreSQL a probe of the key's index does that and the
    insert is a plain one (runs of the model are serialised, so the index never refuses a row): ~0.3 s
    less a minute than ON CONFLICT's speculative insertion. On TimescaleDB the upsert's ON CONFLICT
    stays: it checks the one chunk each row goes to, where the probe might search every chunk (not
    measurable without TimescaleDB). The key's index also serves the detailed report (a customer's
    events in time order), and rows inserted in key order go to each customer's latest entries,
    where separate indexes on message_id and (customer_id, event_at) cost ~1 s more a minute. batch_id
    numbers the run that stored the row: the models downstream read new rows by it
    (kafka_increment). #}

with

events as (

    select * from {{ ref('stg_notifications__events') }}

),

increment as (

    {{ kafka_increment('fct_notifications') }}

),

new_events as (

    select
        in_range.message_id,
        in_range.customer_id,
        in_range.customer_name,
        in_range.channel,
        in_range.payload,
        in_range.event_at,
        in_range.kafka_topic,
        in_range.kafka_partition,
        in_range.kafka_offset,
        in_range.loaded_at,
        increment.target_batch_id as batch_id

    -- per partition an index range scan on (topic, partition, offset): `offset 0` keeps the planner
    -- from flattening the lateral into a join that may scan every row ever landed
    from increment
    cross join
        lateral (
            select
                events.message_id,
                events.customer_id,
                events.customer_name,
                events.channel,
                events.payload,
                events.event_at,
                events.kafka_topic,
                events.kafka_partition,
                events.kafka_offset,
                events.loaded_at,
                events.is_valid
            from events
            where
                events.kafka_topic = increment.kafka_topic
                and events.kafka_partition = increment.kafka_partition
                and events.kafka_offset >= increment.processed_offset
                and events.kafka_offset < increment.target_offset
            offset 0  -- noqa: AM09
        ) as in_range
    where in_range.is_valid

),

deduplicated as (

    select distinct on (customer_id, event_at, message_id)
        message_id,
        customer_id,
        customer_name,
        channel,
        payload,
        event_at,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        loaded_at,
        batch_id

    from new_events
    order by
        customer_id asc, event_at asc, message_id asc, kafka_topic asc, kafka_partition asc, kafka_offset asc

),

not_stored_before as (

    select * from deduplicated
    {%- if is_incremental() and not is_timescale() %}
    -- a probe of the key's index per event, in key order
    where
        not exists (
            select 1
            from {{ this }} as stored_before
            where
                stored_before.customer_id = deduplicated.customer_id
                and stored_before.event_at = deduplicated.event_at
                and stored_before.message_id = deduplicated.message_id
        )
    {%- endif %}

)

-- in key order (as sorted above), the insert meets the key's index pages one after another
select * from not_stored_before
order by customer_id asc, event_at asc, message_id asc
