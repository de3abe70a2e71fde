-- Upgrades of tables dbt builds, for warehouses built before a change. dbt creates a model's
-- indexes only when it builds the table from scratch, which the TimescaleDB target never does for
-- fct_notifications (raw events expire). Each block does nothing on a new or upgraded warehouse.

-- fct_notifications: the dedup key became the event's (customer_id, event_at, message_id). Its
-- unique index replaces the unique index on message_id (on TimescaleDB (message_id, event_at)) and
-- the index on (customer_id, event_at). Building it holds off the minutely run until it is done.
do $$
declare
    facts constant regclass := to_regclass('marts.fct_notifications');
    has_key boolean;
    old_indexes regclass[];
    old_index regclass;
begin
    if facts is null then
        return;
    end if;
    select
        coalesce(bool_or(indisunique and index_columns = '{customer_id,event_at,message_id}'), false),
        array_agg(indexrelid::regclass) filter (
            where index_columns in ('{message_id}', '{message_id,event_at}', '{customer_id,event_at}')
        )
    into has_key, old_indexes
    from (
        select
            indexrelid,
            indisunique,
            array(
                select attribute.attname::text
                from unnest(pg_index.indkey::int2[]) with ordinality as key (attnum, position)
                inner join pg_attribute as attribute
                    on attribute.attrelid = pg_index.indrelid and attribute.attnum = key.attnum
                order by key.position
            ) as index_columns
        from pg_index
        where indrelid = facts
    ) as indexes;
    if has_key then
        return;
    end if;
    execute format('create unique index on %s (customer_id, event_at, message_id)', facts);
    foreach old_index in array coalesce(old_indexes, '{}') loop
        execute format('drop index %s', old_index);
    end loop;
end
$$;

-- fct_notification_events_quarantined was intermediate.int_notification_events_quarantined: it
-- reads fct_notifications, and layers point one way (staging -> intermediate -> marts). The table and
-- its offsets move with it, so its next run goes on from where the old one stopped.
do $$
begin
    if to_regclass('intermediate.int_notification_events_quarantined') is null
        or to_regclass('marts.fct_notification_events_quarantined') is not null then
        return;
    end if;
    create schema if not exists marts;
    alter table intermediate.int_notification_events_quarantined set schema marts;
    alter table marts.int_notification_events_quarantined rename to fct_notification_events_quarantined;
    if to_regclass('intermediate.int_kafka_offsets_processed') is not null then
        update intermediate.int_kafka_offsets_processed
        set model_name = 'fct_notification_events_quarantined'
        where model_name = 'int_notification_events_quarantined';
    end if;
end
$$;
