-- Raw landing tables: inputs exactly as received plus load metadata. Owned by the loader,
-- applied idempotently by `warehouse up` and before every load. dbt only reads these.
create schema if not exists raw;

-- One row per file loaded; the checksum makes reloading the same content a no-op.
-- load_id grows in load order, which the chatbot rules use to break timestamp ties.
create table if not exists raw.loaded_files (
    load_id bigint generated always as identity primary key,
    source text not null,
    file_name text not null,
    file_sha256 text not null,
    row_count integer not null,
    loaded_at timestamptz not null default now(),
    unique (source, file_sha256)
);

create table if not exists raw.invoices (
    customer text not null,
    account text not null,
    month text not null,
    invoice text not null,
    source_file text not null,
    line_number integer not null,
    load_id bigint not null references raw.loaded_files (load_id),
    loaded_at timestamptz not null default now(),
    primary key (load_id, line_number)
);

-- One row per element of an hourly chatbot answers file (hour=HH.json), the element as-is.
create table if not exists raw.chatbot_answers (
    element jsonb not null,
    -- The content's keys in document order: jsonb does not keep key order, and the per-flow
    -- pivot orders its columns by first appearance.
    content_keys text[] not null,
    source_file text not null,
    -- From the file name hour=HH.json; null when the name carries no hour.
    file_hour smallint,
    -- 0-based index of the element in the file's array.
    element_index integer not null,
    load_id bigint not null references raw.loaded_files (load_id),
    loaded_at timestamptz not null default now(),
    primary key (load_id, element_index)
);

-- Kafka envelope + payload. The primary key makes a doubled offset impossible, not just unlikely.
create table if not exists raw.notification_events (
    kafka_topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    kafka_timestamp timestamptz,
    kafka_key bytea,
    kafka_headers jsonb,
    payload jsonb not null,
    loaded_at timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);

-- Dead letters: messages whose value is not a JSON object jsonb accepts.
create table if not exists raw.notification_events_rejected (
    kafka_topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    kafka_timestamp timestamptz,
    kafka_key bytea,
    kafka_headers jsonb,
    raw_value bytea,
    error text not null,
    loaded_at timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);

-- Record headers as received, in order, duplicates kept: [{"key": text, "value": base64 or null}],
-- null for a record without headers. Warehouses created before headers were kept get the column.
alter table raw.notification_events add column if not exists kafka_headers jsonb;
alter table raw.notification_events_rejected add column if not exists kafka_headers jsonb;

-- Next offset to land per partition, committed in the same transaction as the rows.
create table if not exists raw.kafka_offsets (
    kafka_topic text not null,
    kafka_partition integer not null,
    next_offset bigint not null,
    updated_at timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition)
);

-- The payload's customer_id as a bigint, null unless it is a JSON number (not a string) whose value
-- is a whole number from 0 to 999999999999999999: 1007, 1007.0 and 1.007e3 are the same number (as
-- JSON Schema's integer), "1007" is not. Staging types customer_id with this very function, so the
-- expression index below serves the panel's per-customer read of the raw tail the rollup has not
-- processed. The index is rebuilt when the body changes (its entries were computed by the old one).
do $migration$
declare
    old_body text := (
        select prosrc from pg_proc where oid = to_regprocedure('raw.notification_customer_id(jsonb)')
    );
begin
    create or replace function raw.notification_customer_id(payload jsonb) returns bigint
    language sql immutable parallel safe
    as $$
        -- an integer's text (the usual case) is cast as it is; others (1007.0) go through numeric,
        -- which costs twice as much per event. Every test is immutable, so a constant that fails
        -- one never reaches its cast while the planner folds constants.
        select case when jsonb_typeof(payload -> 'customer_id') = 'number' then
            case
                when payload ->> 'customer_id' ~ '^[0-9]{1,18}$'
                    then cast(payload ->> 'customer_id' as bigint)
                when
                    cast(payload -> 'customer_id' as numeric) between 0 and 999999999999999999
                    and min_scale(cast(payload -> 'customer_id' as numeric)) = 0
                    then cast(cast(payload -> 'customer_id' as numeric) as bigint)
            end
        end
    $$;
    if old_body is distinct from (
        select prosrc from pg_proc where oid = to_regprocedure('raw.notification_customer_id(jsonb)')
    ) then
        -- dropped, not reindexed: the session's cached index expression still holds the old body;
        -- the statement below creates the index anew
        drop index if exists raw.notification_events_customer_idx;
    end if;
end
$migration$;

-- One spelling per channel: "Whatsapp", "WhatsApp", " WHATSAPP ", "whats-app" -> 'whatsapp':
-- lowercase without whitespace, underscores, dots or dashes (translate: far cheaper than a regex per
-- event; a one-expression SQL function is inlined). Staging types channels with it (macro
-- normalize_channel) and the reports normalise --channel with it: the rule exists here only.
create or replace function raw.normalized_channel(channel text) returns text
language sql immutable parallel safe
as $$
    select nullif(translate(lower(channel), E' \t\r\n_.-', ''), '')
$$;

create index if not exists notification_events_customer_idx
on raw.notification_events (raw.notification_customer_id(payload), kafka_topic, kafka_partition, kafka_offset);
