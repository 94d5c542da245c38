from celery import shared_task
from django.utils import timezone

from billing import services


@shared_task(ignore_result=True)
def invoices_issue_task() -> None:
    """Beat, on the 1st of each month (São Paulo): invoice the month that just
    ended. Idempotent, so a repeated or late run changes nothing."""
    last_month = timezone.localdate().replace(day=1) - timezone.timedelta(days=1)
    services.invoices_issue_for_period(period=last_month.replace(day=1))
