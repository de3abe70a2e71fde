-- Painel de Notificações: WhatsApp notifications of a day per customer (default: the watermark's day).
select
    panel.customer_id,
    panel.customer_name as "Cliente",
    panel.whatsapp_notifications as "Notificações Whatsapp",
    panel.last_updated_at as "Última atualização"
from marts.rpt_notification_panel as panel
where
    panel.panel_date = coalesce(
        [[{{panel_date}},]]
        (select watermark.watermark_date from marts.rpt_notification_watermark as watermark)
    )
    [[and panel.customer_name = {{customer}}]]
order by panel.customer_name, panel.customer_id
