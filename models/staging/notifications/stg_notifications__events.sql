{#- Typed notification events. Every cast is guarded, so a malformed message never breaks a build:
    its typed fields are null and invalid_reason says why (fct_notification_events_quarantined). #}

with

source as (

    select * from {{ source('notifications', 'notification_events') }}

),

fields_typed as (

    select
        source.kafka_topic,
        source.kafka_partition,
        source.kafka_offset,
        source.kafka_timestamp,
        source.loaded_at,
        source.payload as event_json,
        -- the raw schema's function, so its expression index serves per-customer reads
        raw.notification_customer_id(source.payload) as customer_id,
        typed_fields.customer_id_text,
        typed_fields.message_id,
        typed_fields.customer_name,
        typed_fields.channel,
        typed_fields.payload,
        typed_fields.event_datetime,
        typed_fields.event_at

    from source
    -- `offset 0` types each event once: PostgreSQL would otherwise copy every expression into each
    -- one that uses it (is_valid, invalid_reason), parsing the time up to four times. (ST05: the lateral
    -- reads source.payload through its inner subquery, so it cannot be a CTE.)
    cross join lateral (  -- noqa: ST05
        select
            extracted.customer_id_text,
            extracted.message_id,
            extracted.customer_name,
            extracted.channel,
            extracted.payload,
            extracted.event_datetime,
            -- ISO 8601, date first, with an explicit UTC offset (a time without one is ambiguous),
            -- checked by pg_input_is_valid (PostgreSQL 16+) so the cast cannot fail. Plain string
            -- tests, no regular expression: this runs for every event.
            case
                when
                    extracted.event_datetime not like '____-__-__T%'
                    and extracted.event_datetime not like '____-__-__ %'
                    then null
                when
                    right(extracted.event_datetime, 1) != 'Z'
                    and strpos(substr(extracted.event_datetime, 11), '+') = 0
                    and strpos(substr(extracted.event_datetime, 11), '-') = 0
                    then null
                when pg_input_is_valid(extracted.event_datetime, 'timestamptz')
                    then cast(extracted.event_datetime as timestamptz)
            end as event_at
        from (
            select
                source.payload ->> 'customer_id' as customer_id_text,
                nullif(btrim(source.payload ->> 'message_id'), '') as message_id,
                nullif(btrim(source.payload ->> 'customer_name'), '') as customer_name,
                {{ normalize_channel("source.payload ->> 'channel'") }} as channel,
                source.payload ->> 'payload' as payload,
                source.payload ->> 'event_datetime' as event_datetime
        ) as extracted
        offset 0  -- noqa: AM09
    ) as typed_fields

),

final as (

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
        event_at,
        case
            when jsonb_typeof(event_json) != 'object' then 'message is not a JSON object'
            when customer_id_text is null then 'missing customer_id'
            when message_id is null then 'missing message_id'
            when customer_name is null then 'missing customer_name'
            when channel is null then 'missing channel'
            when payload is null then 'missing payload'
            when event_datetime is null then 'missing event_datetime'
            when customer_id is null then 'customer_id is not a non-negative integer'
            when event_at is null then 'event_datetime is not an ISO 8601 timestamp with a UTC offset'
        end as invalid_reason,
        -- the same rule as invalid_reason (every typed field is null when its value is missing or
        -- does not parse), without evaluating the reasons: models that keep valid events need only this
        coalesce(
            customer_id is not null
            and message_id is not null
            and customer_name is not null
            and channel is not null
            and payload is not null
            and event_at is not null,
            false
        ) as is_valid

    from fields_typed

)

select * from final
