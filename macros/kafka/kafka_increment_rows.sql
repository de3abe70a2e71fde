{#- The rows of an upstream offset-incremental model that are new to this run: its offsets in the
    run's range and, to read them in one range of the upstream's small batch_id index, its batches
    stored since this model's previous run. Renders the join and the where clause after
    `from <upstream>`. -#}
{% macro kafka_increment_rows(upstream, increment='increment') -%}
    inner join {{ increment }}
        on
            {{ upstream }}.kafka_topic = {{ increment }}.kafka_topic
            and {{ upstream }}.kafka_partition = {{ increment }}.kafka_partition
            and {{ upstream }}.kafka_offset >= {{ increment }}.processed_offset
            and {{ upstream }}.kafka_offset < {{ increment }}.target_offset
    where
        {{ upstream }}.batch_id > (select max(this_run.processed_batch_id) from {{ increment }} as this_run)
        and {{ upstream }}.batch_id <= (select max(this_run.target_batch_id) from {{ increment }} as this_run)
{%- endmacro %}
