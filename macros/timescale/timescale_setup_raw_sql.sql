{% macro timescale_setup_raw_sql() -%}
    {%- set events = source('notifications', 'notification_events') -%}
    {%- set compress_after = timescale_interval('timescale_raw_compress_after') -%}
    {%- set retention = timescale_raw_retention() -%}
create extension if not exists timescaledb;

-- one setup at a time: several services may run `warehouse up` together
{{ pipeline_lock('warehouse.timescale_setup_raw') }};

{{ timescale_create_hypertable_sql(events, 'loaded_at', "interval '1 day'") }};

do $raw_policies$
begin
    -- a partition's rows in offset order: the models read raw by (topic, partition, offset) ranges,
    -- which the per-batch min/max of kafka_offset still narrow down in compressed chunks
    {{ timescale_compression_and_retention_sql(
        events, 'kafka_topic, kafka_partition', 'kafka_offset', compress_after, retention
    ) | indent(4) }}
end
$raw_policies$;
{%- endmacro %}
