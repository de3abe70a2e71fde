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
        typed_fields.message_id_text,
        typed_fields.message_id,
        typed_fields.customer_name,
        typed_fields.channel_text,
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
            extracted.message_id_text,
            extracted.channel_text,
            extracted.payload,
            extracted.event_datetime,
            -- strings of bounded length: message_id and channel are in unique keys (btree entries
            -- hold at most 2,704 bytes)
            case
                when char_length(extracted.message_id_text) <= {{ notification_max_length('message_id') }}
                    then nullif(extracted.message_id_text, '')
            end as message_id,
            nullif(extracted.customer_name_text, '') as customer_name,
            case
                when char_length(extracted.channel_text) <= {{ notification_max_length('channel') }}
                    then extracted.channel_text
            end as channel,
            -- the documented form only: ISO 8601, date first, an explicit UTC offset (a time
            -- without one is ambiguous), years 2000 to 2099 as written; pg_input_is_valid
            -- (PostgreSQL 16+) then checks the ranges of its fields, so the cast cannot fail
            case
                when
                    extracted.event_datetime ~ '{{ notification_timestamp_pattern("20[0-9]{2}") }}'
                    and pg_input_is_valid(extracted.event_datetime, 'timestamptz')
                    then cast(extracted.event_datetime as timestamptz)
            end as event_at
        from (
            select
                -- strings only: ->> would turn a number or an object into its JSON text
                case
                    when jsonb_typeof(source.payload -> 'message_id') = 'string'
                        then btrim(source.payload ->> 'message_id')
                end as message_id_text,
                case
                    when jsonb_typeof(source.payload -> 'customer_name') = 'string'
                        then btrim(source.payload ->> 'customer_name')
                end as customer_name_text,
                case
                    when jsonb_typeof(source.payload -> 'channel') = 'string'
                        then {{ normalize_channel("source.payload ->> 'channel'") }}
                end as channel_text,
                case
                    when jsonb_typeof(source.payload -> 'payload') = 'string'
                        then source.payload ->> 'payload'
                end as payload,
                case
                    when jsonb_typeof(source.payload -> 'event_datetime') = 'string'
                        then source.payload ->> 'event_datetime'
                end as event_datetime
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
            when event_json ->> 'customer_id' is null then 'missing customer_id'
            {% for field in ['message_id', 'customer_name', 'channel', 'payload', 'event_datetime'] -%}
            when event_json ->> '{{ field }}' is null then 'missing {{ field }}'
            when jsonb_typeof(event_json -> '{{ field }}') != 'string' then '{{ field }} is not a string'
            {% endfor -%}
            when message_id_text = '' then 'missing message_id'
            when customer_name is null then 'missing customer_name'
            when channel_text is null then 'missing channel'
            when customer_id is null then 'customer_id is not a non-negative integer'
            when message_id is null
                then 'message_id is longer than {{ notification_max_length("message_id") }} characters'
            when channel is null
                then 'channel is longer than {{ notification_max_length("channel") }} characters'
            when
                event_at is null
                and event_datetime ~ '{{ notification_timestamp_pattern("[0-9]{4}") }}'
                and pg_input_is_valid(event_datetime, 'timestamptz')
                then 'event_datetime is not in the years 2000 to 2099'
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
