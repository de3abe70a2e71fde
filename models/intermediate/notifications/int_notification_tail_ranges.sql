{{ config(materialized='view') }}

{#- The raw tail, per partition: offsets from where fct_notifications_per_minute stopped (0 when it
    never saw the partition) up to the loader's next offset. Rows there are landed but not rolled up:
    the panel adds them to the rollup so it is as fresh as the loader's last commit. On the timescale
    target the rollup is a real-time continuous aggregate: the tail starts where fct_notifications
    stopped (notification_rollup_offsets_model). customers_from_offset is where the tail starts for
    the customer list: the lower of the rollup's and dim_notification_customers' offsets (the two run
    side by side), so a customer the dimension has not seen yet is found in raw. It reads the models'
    progress in int_kafka_offsets_processed, never the marts themselves, so it depends on no mart. #}

with

offsets as (

    select * from {{ ref('stg_notifications__kafka_offsets') }}

),

rolled_up_offsets as (

    {{ kafka_offsets_processed_by(notification_rollup_offsets_model()) }}

),

customer_offsets as (

    {{ kafka_offsets_processed_by('dim_notification_customers') }}

),

ranges as (

    select
        offsets.kafka_topic,
        offsets.kafka_partition,
        coalesce(rolled_up_offsets.next_offset, 0) as from_offset,
        least(
            coalesce(rolled_up_offsets.next_offset, 0), coalesce(customer_offsets.next_offset, 0)
        ) as customers_from_offset,
        offsets.next_offset as to_offset

    from offsets
    left join rolled_up_offsets
        on
            offsets.kafka_topic = rolled_up_offsets.kafka_topic
            and offsets.kafka_partition = rolled_up_offsets.kafka_partition
    left join customer_offsets
        on
            offsets.kafka_topic = customer_offsets.kafka_topic
            and offsets.kafka_partition = customer_offsets.kafka_partition

)

select * from ranges
