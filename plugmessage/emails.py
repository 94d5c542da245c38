"""The one way the apps send an email: `emails/<name>_subject.txt`,
`_body.txt` and `_body.html` rendered with the same context.

Every HTML body extends `emails/base.html`, the one layout of the project's
emails (allauth's account emails included, see accounts.adapters), and
leaves here with `static/css/email.css` inlined into style attributes:
most email clients drop <style> and never load a <link>."""

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

EMAIL_STYLESHEET = "css/email.css"


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(
        extra_css=Path(finders.find(EMAIL_STYLESHEET)).read_text(encoding="utf-8"),
        load_remote_stylesheets=False,
    )


def email_html_inline(html: str) -> str:
    """The HTML email with the email stylesheet written into its elements'
    style attributes (css-inline)."""
    return _inliner().inline(html)


def email_context(context: dict) -> dict:
    """What every email template may use besides its own context: the site's
    name (SITE_NAME), address (SITE_URL) and the host alone."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "site_domain": urlsplit(settings.SITE_URL).netloc,
        **context,
    }


def email_send(
    name: str, context: dict, *, to: list[str], reply_to: list[str] | None = None
) -> None:
    context = email_context(context)
    message = EmailMultiAlternatives(
        render_to_string(f"emails/{name}_subject.txt", context).strip(),
        render_to_string(f"emails/{name}_body.txt", context),
        to=to,
        reply_to=reply_to,
    )
    message.attach_alternative(
        email_html_inline(render_to_string(f"emails/{name}_body.html", context)),
        "text/html",
    )
    message.send()
