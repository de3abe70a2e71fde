-- Daily range partitions, for retention on plain PostgreSQL: raw.notification_events by loaded_at
-- (RAW_RETENTION_DAYS) and marts.fct_notifications by event_at (DETAIL_RETENTION_DAYS). Expired
-- days are dropped whole, never deleted row by row. On TimescaleDB the same tables are hypertables
-- with retention policies instead, and these functions leave them alone. Days are UTC days.
create schema if not exists ops;

-- A range partition's bounds as timestamptz (-infinity / infinity for MINVALUE / MAXVALUE);
-- null for a default partition.
create or replace function ops.partition_bounds(partition regclass, out lower_bound timestamptz, out upper_bound timestamptz)
language sql stable
as $$
    select
        cast(replace(replace(trim(both '''' from bounds[1]), 'MINVALUE', '-infinity'), 'MAXVALUE', 'infinity') as timestamptz),
        cast(replace(replace(trim(both '''' from bounds[2]), 'MINVALUE', '-infinity'), 'MAXVALUE', 'infinity') as timestamptz)
    from pg_class,
        lateral regexp_match(pg_get_expr(relpartbound, oid), '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') as bounds
    where oid = partition
$$;

-- Creates the partitions `<table>_pYYYYMMDD` of the days from `days_back` days ago to `days_ahead`
-- days ahead that no partition covers yet; returns how many it created. Does nothing on a table that is not
-- partitioned (a TimescaleDB hypertable). A day whose rows already went to the default partition
-- (event times ahead of the partitions) is left there: PostgreSQL would refuse the partition.
create or replace function ops.create_daily_partitions(parent regclass, days_back integer, days_ahead integer)
returns integer
language plpgsql
as $$
declare
    parent_schema text;
    parent_name text;
    today constant timestamptz := date_trunc('day', now(), 'UTC');
    day timestamptz;
    created integer := 0;
begin
    select namespace.nspname, class.relname into parent_schema, parent_name
    from pg_class as class
    inner join pg_namespace as namespace on namespace.oid = class.relnamespace
    where class.oid = parent and class.relkind = 'p';
    if not found then
        return 0;
    end if;
    for day in
        select generate_series(
            today - make_interval(days => days_back), today + make_interval(days => days_ahead), interval '1 day'
        )
    loop
        continue when exists (
            select from pg_inherits, lateral ops.partition_bounds(inhrelid) as bounds
            where inhparent = parent and bounds.lower_bound < day + interval '1 day' and bounds.upper_bound > day
        );
        begin
            execute format(
                'create table %I.%I partition of %s for values from (%L) to (%L)',
                parent_schema,
                left(parent_name, 53) || '_p' || to_char(day at time zone 'UTC', 'YYYYMMDD'),
                parent,
                day,
                day + interval '1 day'
            );
            created := created + 1;
        exception when check_violation then
            raise notice '%: rows of % are in the default partition; the day stays there', parent, day;
        end;
    end loop;
    return created;
end
$$;

-- Drops the partitions whose days all lie more than `retention` before now and returns their
-- names; in the default partition (if any) deletes the rows that old, which are few (event times
-- outside every day's partition).
create or replace function ops.drop_daily_partitions(parent regclass, retention interval)
returns text[]
language plpgsql
as $$
declare
    cutoff constant timestamptz := now() - retention;
    partition record;
    dropped text[] := '{}';
    key_column text;
begin
    if (select relkind from pg_class where oid = parent) is distinct from 'p' then
        return dropped;
    end if;
    for partition in
        select inhrelid::regclass as relation, bounds.upper_bound
        from pg_inherits, lateral ops.partition_bounds(inhrelid) as bounds
        where inhparent = parent
        order by bounds.upper_bound
    loop
        if partition.upper_bound is null then
            select attname into key_column
            from pg_partitioned_table
            inner join pg_attribute on attrelid = partrelid and attnum = partattrs[0]
            where partrelid = parent;
            execute format('delete from %s where %I < %L', partition.relation, key_column, cutoff);
        elsif partition.upper_bound <= cutoff then
            dropped := dropped || partition.relation::text;  -- named while it exists
            execute format('drop table %s', partition.relation);
        end if;
    end loop;
    return dropped;
end
$$;

-- Makes `relation` (a plain table) partitioned by day on `time_column` without copying a row: a
-- table with rows is renamed `<table>_before_YYYYMMDD` and attached as the partition of everything
-- before tomorrow, so it is dropped whole once tomorrow has expired (an empty one is dropped).
-- Unique keys gain `time_column`, as PostgreSQL requires of a partitioned table (rebuilding those
-- indexes once); the other indexes are attached as they are. With `with_default` a default
-- partition takes the rows of no day's partition. Then the partitions from `days_back` days ago to
-- `days_ahead` days ahead. Does nothing on a partitioned table; refuses a TimescaleDB hypertable.
create or replace function ops.partition_by_day(
    relation regclass, time_column text, with_default boolean, days_back integer, days_ahead integer
)
returns void
language plpgsql
as $$
declare
    table_schema text;
    table_name text;
    before_tomorrow text;
    tomorrow constant timestamptz := date_trunc('day', now(), 'UTC') + interval '1 day';
    is_hypertable boolean := false;
    index_ record;
    key_columns text;
    has_rows boolean;
begin
    select namespace.nspname, class.relname into table_schema, table_name
    from pg_class as class
    inner join pg_namespace as namespace on namespace.oid = class.relnamespace
    where class.oid = relation and class.relkind = 'r';
    if not found then
        return;
    end if;
    if to_regclass('_timescaledb_catalog.hypertable') is not null then
        execute 'select exists (select from _timescaledb_catalog.hypertable where schema_name = $1 and table_name = $2)'
        into is_hypertable using table_schema, table_name;
    end if;
    if is_hypertable then
        raise exception '%.% is a TimescaleDB hypertable: use WAREHOUSE_DBT_TARGET=timescale on this server',
            table_schema, table_name;
    end if;
    execute format('select exists (select from %s)', relation) into has_rows;
    before_tomorrow := left(table_name, 47) || '_before_' || to_char(tomorrow at time zone 'UTC', 'YYYYMMDD');
    execute format('alter table %I.%I rename to %I', table_schema, table_name, before_tomorrow);
    execute format(
        'create table %1$I.%2$I (like %1$I.%3$I including defaults including storage including comments)'
        ' partition by range (%4$I)',
        table_schema, table_name, before_tomorrow, time_column
    );
    for index_ in
        select
            index_class.relname as index_name,
            pg_get_indexdef(pg_index.indexrelid) as definition,
            table_constraint.conname as constraint_name,
            table_constraint.contype as constraint_type,
            pg_index.indisunique
            and not exists (
                select from pg_attribute
                where attrelid = pg_index.indrelid and attname = time_column and attnum = any(pg_index.indkey)
            ) as lacks_time_column,
            (
                select string_agg(quote_ident(attname), ', ' order by key.position)
                from unnest(pg_index.indkey) with ordinality as key (attnum, position)
                inner join pg_attribute on attrelid = pg_index.indrelid and pg_attribute.attnum = key.attnum
            ) as columns
        from pg_index
        inner join pg_class as index_class on index_class.oid = pg_index.indexrelid
        left join pg_constraint as table_constraint
            on table_constraint.conindid = pg_index.indexrelid and table_constraint.conrelid = pg_index.indrelid
        where pg_index.indrelid = format('%I.%I', table_schema, before_tomorrow)::regclass
    loop
        -- the old table's index gives its name to the new table's
        execute format('alter index %I.%I rename to %I', table_schema, index_.index_name,
            left(before_tomorrow, 40) || '_' || md5(index_.index_name)::char(8));
        key_columns := index_.columns || case when index_.lacks_time_column then ', ' || quote_ident(time_column) else '' end;
        if index_.constraint_name is not null then
            if index_.lacks_time_column then
                execute format('alter table %I.%I drop constraint %I, add %s (%s)', table_schema, before_tomorrow,
                    left(before_tomorrow, 40) || '_' || md5(index_.index_name)::char(8),
                    case index_.constraint_type when 'p' then 'primary key' else 'unique' end, key_columns);
            end if;
            execute format('alter table %I.%I add constraint %I %s (%s)', table_schema, table_name, index_.constraint_name,
                case index_.constraint_type when 'p' then 'primary key' else 'unique' end, key_columns);
        elsif index_.lacks_time_column then
            raise exception 'cannot partition %.% by %: add % to its unique index % by hand',
                table_schema, table_name, time_column, time_column, index_.index_name;
        else
            execute regexp_replace(index_.definition, ' ON \S+ USING ', format(' ON %I.%I USING ', table_schema, table_name));
        end if;
    end loop;
    if has_rows then
        -- rows from tomorrow on (a producer's clock ahead) are outside the old table's range: they
        -- set out and come back into the new table's own partitions once those exist
        execute format(
            'create temporary table partition_by_day_later as select * from %I.%I where %I >= %L',
            table_schema, before_tomorrow, time_column, tomorrow
        );
        execute format('delete from %I.%I where %I >= %L', table_schema, before_tomorrow, time_column, tomorrow);
        execute format(
            'alter table %I.%I attach partition %I.%I for values from (minvalue) to (%L)',
            table_schema, table_name, table_schema, before_tomorrow, tomorrow
        );
    else
        execute format('drop table %I.%I', table_schema, before_tomorrow);
    end if;
    if with_default then
        execute format('create table %1$I.%2$I partition of %1$I.%3$I default', table_schema,
            left(table_name, 53) || '_default', table_name);
    end if;
    perform ops.create_daily_partitions(format('%I.%I', table_schema, table_name)::regclass, days_back, days_ahead);
    if has_rows then
        execute format('insert into %I.%I select * from pg_temp.partition_by_day_later', table_schema, table_name);
        drop table pg_temp.partition_by_day_later;
    end if;
end
$$;
