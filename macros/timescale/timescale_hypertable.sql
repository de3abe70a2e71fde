{#- A model becomes a hypertable on the timescale target with the config
        timescale_hypertable={'time_column': 'event_at', 'chunk_time_interval': '1 day'}
    and the post-hook timescale_hypertable() (both set in dbt_project.yml). The hook converts the table
    a first build or a full refresh creates; later runs find a hypertable and leave it. With the keys
    compress_segmentby, compress_orderby, compress_after (a duration) and retention_days it is also
    compressed and its chunks dropped after that many days; every run enforces those settings (a
    look-up of the jobs when nothing changed). -#}
{% macro timescale_hypertable() -%}
    {%- set hypertable = config.get('timescale_hypertable') -%}
    {%- if is_timescale() and hypertable -%}
        {{ timescale_require_extension() }}
        {%- set setting = this.identifier ~ ": timescale_hypertable." -%}
        {%- set chunk_time_interval = timescale_duration(
            hypertable.get('chunk_time_interval', '1 day'), setting ~ "chunk_time_interval"
        ) -%}
        {{ timescale_create_hypertable_sql(this, hypertable['time_column'], chunk_time_interval['sql']) }}
        {%- if hypertable.get('retention_days') %};
do $hypertable_policies$
begin
    {{ timescale_compression_and_retention_sql(
        this,
        hypertable['compress_segmentby'],
        hypertable['compress_orderby'],
        timescale_duration(hypertable['compress_after'], setting ~ "compress_after"),
        timescale_days(hypertable['retention_days'], setting ~ "retention_days"),
    ) | indent(4) }}
end
$hypertable_policies$
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
