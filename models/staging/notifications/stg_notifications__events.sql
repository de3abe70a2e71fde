{#- Typed notification events. Every cast is guarded, so a malformed message never breaks a build:
    its typed fields are null and invalid_reason says why (int_notification_events_quarantined). #}

with

source as (

    select * from {{ source('notifications', 'notification_events') }}

),

fields_extracted as (

    select
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        loaded_at,
        payload as event_json,
        -- the raw schema's function, so its expression index serves per-customer reads
        raw.notification_customer_id(payload) as customer_id,
        payload ->> 'customer_id' as customer_id_text,
        nullif(btrim(payload ->> 'message_id'), '') as message_id,
        nullif(btrim(payload ->> 'customer_name'), '') as customer_name,
        {{ normalize_channel("payload ->> 'channel'") }} as channel,
        payload ->> 'payload' as payload,
        payload ->> 'event_datetime' as event_datetime

    from source

),

-- ISO 8601, date first, with an explicit UTC offset (a time without one is ambiguous); the values are
-- checked by pg_input_is_valid (PostgreSQL 16+) before the cast, which therefore cannot fail.
-- Plain string tests and no regular expression: this runs for every event.
event_datetime_checked as (

    select
        *,
        case
            when event_datetime not like '____-__-__T%' and event_datetime not like '____-__-__ %' then false
            when
                right(event_datetime, 1) != 'Z'
                and strpos(substr(event_datetime, 11), '+') = 0
                and strpos(substr(event_datetime, 11), '-') = 0
                then false
            else pg_input_is_valid(event_datetime, 'timestamptz')
        end as is_event_datetime_parsable

    from fields_extracted

),

typed as (

    select
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        loaded_at,
        event_json,
        customer_id,
        message_id,
        customer_name,
        channel,
        payload,
        case
            when is_event_datetime_parsable then cast(event_datetime as timestamptz)
        end as event_at,
        case
            when jsonb_typeof(event_json) != 'object' then 'message is not a JSON object'
            when customer_id_text is null then 'missing customer_id'
            when message_id is null then 'missing message_id'
            when customer_name is null then 'missing customer_name'
            when channel is null then 'missing channel'
            when payload is null then 'missing payload'
            when event_datetime is null then 'missing event_datetime'
            when customer_id is null then 'customer_id is not a non-negative integer'
            when not is_event_datetime_parsable
                then 'event_datetime is not an ISO 8601 timestamp with a UTC offset'
        end as invalid_reason

    from event_datetime_checked

),

-- the same rule as invalid_reason (every typed field is null when its value is missing or does not
-- parse), without evaluating the reasons: models that keep valid events only need this
final as (

    select
        *,
        coalesce(
            customer_id is not null
            and message_id is not null
            and customer_name is not null
            and channel is not null
            and payload is not null
            and event_at is not null,
            false
        ) as is_valid

    from typed

)

select * from final
