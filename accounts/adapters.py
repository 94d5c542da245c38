from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.timesince import timeuntil

from accounts.models import User
from plugmessage.emails import email_context, email_html_inline


@dataclass(frozen=True)
class EmailSite:
    """What allauth's templates read as `current_site`: the site's name
    from settings, not the host the request happened to come in by (the
    sites framework is not installed, so allauth would use the host for
    both)."""

    name: str
    domain: str


def _valid_for(seconds: float) -> str:
    """A link's lifetime in words ("3 dias", "1 hora")."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now, depth=1)


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        return super().clean_email(email.strip())

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def populate_username(self, request: HttpRequest, user: User) -> None:
        # The model has no username: the email is the identity.
        return None

    def format_email_subject(self, subject: str) -> str:
        prefix = allauth_settings.EMAIL_SUBJECT_PREFIX
        if prefix is None:
            prefix = f"[{settings.SITE_NAME}] "
        return prefix + force_str(subject)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every account email (templates/account/email/) gets the site's
        name and address, as the project's own emails do, and how long its
        links last: the confirmation link (ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS)
        and the password reset link (PASSWORD_RESET_TIMEOUT)."""
        context = email_context(
            {
                "current_site": EmailSite(
                    name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc
                ),
                "confirmation_valid_for": _valid_for(
                    allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS * 24 * 3600
                ),
                "password_reset_valid_for": _valid_for(settings.PASSWORD_RESET_TIMEOUT),
                **context,
            }
        )
        super().send_mail(template_prefix, email, context)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        # The HTML body extends emails/base.html like the project's other
        # emails, and leaves with the email stylesheet inlined as they do.
        message = super().render_mail(template_prefix, email, context, headers)
        if isinstance(message, EmailMultiAlternatives):
            message.alternatives = [
                alternative._replace(content=email_html_inline(alternative.content))
                if alternative.mimetype == "text/html"
                else alternative
                for alternative in message.alternatives
            ]
        return message

    def get_http_user_agent(self, request: HttpRequest) -> str:
        # Empty when the browser sent none, so the notice says "desconhecido"
        # rather than allauth's English "Unspecified".
        return request.META.get("HTTP_USER_AGENT", "")

    def send_notification_mail(
        self,
        template_prefix: str,
        user: User,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        # A customer who did not make the change is pointed to "Esqueci
        # minha senha" in the same email.
        context = {
            "forgot_password_url": build_absolute_uri(
                self.request, reverse("account_reset_password")
            ),
            **(context or {}),
        }
        super().send_notification_mail(template_prefix, user, context, email)
