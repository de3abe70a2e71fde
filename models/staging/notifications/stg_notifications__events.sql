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
        payload ->> 'event_datetime' as event_datetime,
        -- ISO 8601 with a mandatory UTC offset: a time without one is ambiguous
        regexp_match(
            payload ->> 'event_datetime',
            '^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(:([0-9]{2})([.][0-9]{1,9})?)?'
            '(Z|[+-]([0-9]{2})(:?([0-9]{2}))?)$'
        ) as event_datetime_parts

    from source

),

event_datetime_checked as (

    select
        *,
        -- the ranges PostgreSQL accepts, checked before the cast so it cannot fail
        coalesce(
            cast(event_datetime_parts[1] as integer) >= 1
            and cast(event_datetime_parts[2] as integer) between 1 and 12
            and cast(event_datetime_parts[3] as integer) between 1 and extract(
                day from make_date(
                    cast(event_datetime_parts[1] as integer), cast(event_datetime_parts[2] as integer), 1
                ) + interval '1 month - 1 day'
            )
            and cast(event_datetime_parts[4] as integer) <= 23
            and cast(event_datetime_parts[5] as integer) <= 59
            and coalesce(cast(event_datetime_parts[7] as integer), 0) <= 59
            and coalesce(cast(event_datetime_parts[10] as integer), 0) <= 15
            and coalesce(cast(event_datetime_parts[12] as integer), 0) <= 59,
            false
        ) as is_event_datetime_parsable

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

final as (

    select
        *,
        invalid_reason is null as is_valid

    from typed

)

select * from final
