"""The one way the apps send an email: `emails/<name>_subject.txt`,
`_body.txt` and `_body.html` rendered with the same context."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_send(
    name: str, context: dict, *, to: list[str], reply_to: list[str] | None = None
) -> None:
    message = EmailMultiAlternatives(
        render_to_string(f"emails/{name}_subject.txt", context).strip(),
        render_to_string(f"emails/{name}_body.txt", context),
        to=to,
        reply_to=reply_to,
    )
    message.attach_alternative(
        render_to_string(f"emails/{name}_body.html", context), "text/html"
    )
    message.send()
