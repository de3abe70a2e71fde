-- Relatório Detalhado de Notificações: one customer's messages of a channel, each once, by time.
select
    notifications.message_id as "Mensagem ID",
    notifications.payload as "Payload",
    notifications.event_at as "Data hora"
from marts.fct_notifications as notifications
where
    notifications.customer_id in (
        select customers.customer_id
        from marts.dim_notification_customers as customers
        where customers.customer_name = {{customer}}
    )
    and notifications.channel = lower({{channel}})
    [[and notifications.event_at >= cast({{from}} as timestamptz)]]
    [[and notifications.event_at < cast({{to}} as timestamptz)]]
order by notifications.event_at, notifications.message_id
