{#- The watermark is a single row (null before anything lands): its primary key is "the" row. #}

select count(*) as row_count
from {{ ref('rpt_notification_watermark') }}
having count(*) != 1
