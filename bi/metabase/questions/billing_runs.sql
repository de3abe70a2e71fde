-- Execuções de cobrança: every billing run of the day, latest first (late events re-bill a day).
select
    runs.billed_at as "Faturado em",
    runs.billing_run_id,
    runs.customer_id,
    runs.customer_name as "Cliente",
    runs.whatsapp_notifications as "Notificações Whatsapp",
    runs.amount_brl as "Valor (R$)"
from marts.rpt_notification_billing_runs as runs
where
    runs.billing_date = coalesce(
        [[{{billing_date}},]]
        (select max(billed.billing_date) from marts.rpt_notification_billing_runs as billed)
    )
    [[and runs.customer_name = {{customer}}]]
order by runs.billed_at desc, runs.customer_name, runs.customer_id
