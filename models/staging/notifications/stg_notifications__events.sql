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

-- ISO 8601 with a mandatory UTC offset (a time without one is ambiguous), every field range in the
-- pattern; then the day against its month. A plain match (no capture groups) is a fast DFA scan.
event_datetime_checked as (

    select
        *,
        case
            when
                event_datetime !~ (
                    '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]'
                    || '(:[0-5][0-9]([.][0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$'
                )
                or substr(event_datetime, 1, 4) = '0000'
                then false
            else cast(substr(event_datetime, 9, 2) as integer) <= extract(
                day from make_date(
                    cast(substr(event_datetime, 1, 4) as integer),
                    cast(substr(event_datetime, 6, 2) as integer),
                    1
                ) + interval '1 month - 1 day'
            )
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

final as (

    select
        *,
        invalid_reason is null as is_valid

    from typed

)

select * from final
