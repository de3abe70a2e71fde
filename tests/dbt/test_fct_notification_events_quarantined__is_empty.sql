{{ config(severity='warn') }}

{#- Warns (never fails the build) while landed messages are unusable; the rows say why. #}

select
    kafka_topic,
    kafka_partition,
    kafka_offset,
    invalid_reason
from {{ ref('fct_notification_events_quarantined') }}
