{#- Post-hook of a model with the config daily_partitions={'time_column': ...} (dbt_project.yml), on
    every target but timescale (which has hypertables): the table a first build or a full refresh
    creates becomes partitioned by UTC day on that column, its rows kept as the first partition, with
    partitions for the week ahead and a default one for rows of days without a partition
    (ops.partition_by_day, loader/sql/daily_partitions.sql, which `warehouse up` installs). Later
    runs find it partitioned and do nothing; `warehouse run` adds the days ahead every hour and
    drops the days past their retention whole. -#}
{% macro daily_partitions() -%}
    {%- set partitions = config.get('daily_partitions') -%}
    {%- if partitions and not is_timescale() -%}
        select ops.partition_by_day(
            {{ sql_literal(this.include(database=False) | string) }},
            {{ sql_literal(partitions['time_column']) }},
            with_default => true,
            days_back => 0,
            days_ahead => 7
        )
    {%- endif -%}
{%- endmacro %}
