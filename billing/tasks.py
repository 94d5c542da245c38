from datetime import timedelta

from celery import shared_task

from billing import dates, emails, services


@shared_task(ignore_result=True)
def invoices_issue_task() -> None:
    """Beat, on the 1st of each month (São Paulo): invoice the month that just
    ended. Idempotent, so a repeated or late run changes nothing."""
    last_month = dates.today().replace(day=1) - timedelta(days=1)
    services.invoices_issue_for_period(period=last_month.replace(day=1))


@shared_task(ignore_result=True)
def charges_issue_pending_task() -> None:
    """After issuing, and hourly: the boleto and PIX of each new invoice."""
    services.charges_issue_pending()


@shared_task(ignore_result=True)
def invoices_remind_task() -> None:
    """Beat, daily: "vence em 3 dias" and "venceu" emails."""
    services.invoices_remind()


@shared_task(ignore_result=True)
def invoice_email_task(kind: str, invoice_id: str) -> None:
    emails.invoice_email_send(kind=kind, invoice_id=invoice_id)
