-- Operations state of `warehouse run`, applied with the raw schema. Written by the service (and
-- `warehouse bill`), read by `warehouse status` from any process. Not for BI.
create schema if not exists ops;

-- Every dbt invocation of the service and of `warehouse bill`: the run history.
create table if not exists ops.dbt_runs (
    run_id bigint generated always as identity primary key,
    -- 'deploy' (the service's first run), 'minutely' or 'billing'
    kind text not null,
    selection text not null,
    billing_date date,
    started_at timestamptz not null default clock_timestamp(),
    -- null while running (or when the process died mid-run)
    finished_at timestamptz,
    is_success boolean,
    host text not null default '',
    pid integer
);

create index if not exists dbt_runs_kind_started_at_idx on ops.dbt_runs (kind, started_at desc);

-- The loader's view of each partition, reported by the service: Kafka's end offset as last fetched
-- (another process cannot ask the embedded broker reliably), for the lag `warehouse status` shows.
create table if not exists ops.loader_partitions (
    kafka_topic text not null,
    kafka_partition integer not null,
    next_offset bigint not null,
    end_offset bigint not null,
    reported_at timestamptz not null,
    primary key (kafka_topic, kafka_partition)
);

-- The billing ledger: one row per day that has WhatsApp notifications. A day is billed once it has
-- closed (plus the grace period) and billed again when notifications of it were rolled up after its
-- last bill (late events) and its figures changed.
create table if not exists ops.billing_days (
    billing_date date primary key,
    -- when the service first saw the watermark past the day
    closed_at timestamptz,
    -- when notifications of the day were last rolled up
    changed_at timestamptz not null,
    -- start of the latest successful billing run (or of a figures check that found nothing new)
    billed_at timestamptz
);

-- Per partition, the offset of marts.fct_notifications up to which the ledger has noted the days,
-- and the batch of fct_notifications it had reached (kafka_increment: where to look for new rows).
create table if not exists ops.billing_checked_offsets (
    kafka_topic text not null,
    kafka_partition integer not null,
    checked_offset bigint not null,
    checked_batch_id bigint not null default 0,
    primary key (kafka_topic, kafka_partition)
);
alter table ops.billing_checked_offsets add column if not exists checked_batch_id bigint not null default 0;
-- When the ledger last moved the row: the freshness of the dbt source ops.billing_checked_offsets.
alter table ops.billing_checked_offsets add column if not exists checked_at timestamptz not null default now();

-- Every report of ops.loader_partitions, for the health check to see the loader's progress over a
-- while (lag growing, nothing landed). The service prunes it to the last hour or so.
create table if not exists ops.loader_progress (
    kafka_topic text not null,
    kafka_partition integer not null,
    reported_at timestamptz not null,
    next_offset bigint not null,
    end_offset bigint not null,
    primary key (kafka_topic, reported_at, kafka_partition)
);

-- The portal's revocation counters: a link carries its subject's generation when issued
-- (`warehouse portal link`), and `warehouse portal revoke` bumps it, so older links stop working.
-- The subject is 'c<customer id>' or 'o' (the operator). The portal's read-only role selects it.
create table if not exists ops.portal_links (
    subject text primary key,
    generation integer not null,
    revoked_at timestamptz not null
);
