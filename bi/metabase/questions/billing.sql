-- Relatório de Cobrança: a day's WhatsApp billing per customer (default: the latest billed day).
select
    billing.billing_date as "Data",
    billing.customer_id,
    billing.customer_name as "Cliente",
    billing.whatsapp_notifications as "Notificações Whatsapp",
    billing.unit_price_brl as "Preço unitário (R$)",
    billing.amount_brl as "Valor (R$)"
from marts.rpt_notification_billing as billing
where
    billing.billing_date = coalesce(
        [[{{billing_date}},]]
        (select max(billed.billing_date) from marts.rpt_notification_billing as billed)
    )
    [[and billing.customer_name = {{customer}}]]
order by billing.customer_name, billing.customer_id
