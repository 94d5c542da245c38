from celery import shared_task

from support import emails


@shared_task(ignore_result=True)
def ticket_email_task(kind: str, message_id: int) -> None:
    emails.ticket_email_send(kind=kind, message_id=message_id)
