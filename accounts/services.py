"""Every change to account data. Views and the admin call these, never the ORM."""

import hashlib
import hmac
import secrets
import string
from functools import partial

from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SUPPORT_GROUP_NAME, AuditRecord, User
from plugmessage.locks import lock_one

# The audited staff actions the Suporte group may run (besides viewing all).
STAFF_ACTION_PERMISSIONS = [
    ("accounts", "change_user_email"),
    ("accounts", "resend_user_verification"),
    ("instances", "extend_instance_trial"),
    ("instances", "force_instance_disconnect"),
    ("instances", "retry_engine_event"),
    ("support", "change_ticket"),
    ("billing", "mark_invoice_paid"),
    ("billing", "reissue_invoice"),
    ("privacy", "erase_contact_data"),
]


def support_group_sync(*, using: str = "default") -> Group:
    """Make sure the "Suporte" group exists and holds the view permission of
    every model, plus the audited email change. Idempotent."""
    group, _created = Group.objects.using(using).get_or_create(name=SUPPORT_GROUP_NAME)
    permissions = Permission.objects.using(using).filter(codename__startswith="view_")
    actions = Q()
    for app_label, codename in STAFF_ACTION_PERMISSIONS:
        actions |= Q(content_type__app_label=app_label, codename=codename)
    extra = Permission.objects.using(using).filter(actions)
    group.permissions.add(*permissions, *extra)
    return group


def user_profile_update(*, user: User, full_name: str) -> User:
    """Change what a customer may change about themselves: their name. The email
    is deliberately not a parameter."""
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name"])
    return user


CLIENT_TOKEN_ALPHABET = string.ascii_letters + string.digits
# 40 letters and digits: about 238 random bits. No punctuation, so a
# double-click selects the whole token.
CLIENT_TOKEN_LENGTH = 40
CLIENT_TOKEN_HINT_LENGTH = 4


def _client_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_token_create(*, user: User) -> str:
    """Give the account a new Client-Token and return it in plain text, the
    only time it exists: just its SHA-256 digest and a hint (its first four
    characters) are stored. Creates the first one or rotates: the previous
    token stops matching as soon as this returns, since the API compares the
    digest on the owner row it loads for each call. Whether the token is
    required (on or off) does not change."""
    token = "".join(
        secrets.choice(CLIENT_TOKEN_ALPHABET) for _i in range(CLIENT_TOKEN_LENGTH)
    )
    user.client_token_digest = _client_token_digest(token)
    user.client_token_hint = token[:CLIENT_TOKEN_HINT_LENGTH] + "…"
    user.client_token_created_at = timezone.now()
    user.save(
        update_fields=[
            "client_token_digest",
            "client_token_hint",
            "client_token_created_at",
        ]
    )
    return token


def client_token_enable(*, user: User, enabled: bool) -> User:
    """Turn the Client-Token requirement on or off for every instance of the
    account. Idempotent; the token itself is kept either way, so turning it
    back on needs no new token. Raises ValidationError when turning it on for
    an account that has not generated a token yet (a database constraint
    refuses that state too)."""
    if enabled and not user.client_token_digest:
        raise ValidationError(
            _("Gere um Client-Token antes de ativá-lo."), code="no_client_token"
        )
    user.client_token_enabled = enabled
    user.save(update_fields=["client_token_enabled"])
    return user


def client_token_allows(*, user: User, given: str | None) -> bool:
    """Whether an API call for an instance owned by `user`, carrying `given`
    in its Client-Token header (None when the header is absent), may go on.

    True whenever the account has the Client-Token off. When it is on, True
    only if `given` is the current token, compared in constant time over the
    digests. Pure: reads the fields already loaded on `user` and makes no
    query, so the API can call it on every request."""
    if not user.client_token_enabled:
        return True
    return client_token_is_current(user=user, token=given or "")


def client_token_is_current(*, user: User, token: str) -> bool:
    """Whether `token` is the account's current Client-Token, on or off.
    Pure, like client_token_allows."""
    if not token or not user.client_token_digest:
        return False
    return hmac.compare_digest(_client_token_digest(token), user.client_token_digest)


def audit_record_create(
    *,
    actor: User,
    customer: User | None,
    action: str,
    target: str,
    before: dict,
    after: dict,
    reason: str,
) -> AuditRecord:
    """Write one audit record. Call it inside the transaction of the change it
    records, so that a change without its record cannot exist."""
    if not reason.strip():
        raise ValidationError(_("Informe o motivo da alteração."))
    return AuditRecord.objects.create(
        actor=actor,
        customer=customer,
        action=action,
        target=target,
        before=before,
        after=after,
        reason=reason.strip(),
    )


def _customer_only(user: User) -> None:
    """Support's actions are about customers: a team account is changed only
    by a superuser, by hand, never through them."""
    if user.is_staff or user.is_superuser:
        raise ValidationError(_("Esta ação vale só para contas de clientes."))


@transaction.atomic
def user_email_change_by_staff(
    *,
    user: User,
    new_email: str,
    reason: str,
    actor: User,
    request: HttpRequest | None = None,
) -> User:
    """Change a customer's permanent email, the one exception to rule 1.

    Atomic: the user row is locked and read afresh before anything is
    checked, then the email, the allauth address and the audit record change
    together. The new address starts unverified and gets a confirmation email
    after commit, so the customer proves they own it before logging in again.
    Raises ValidationError for an invalid, unchanged or already used email, or
    an empty reason; LockTimeout when another transaction keeps the user's row
    locked past the lock timeout.
    """
    user = lock_one(User, pk=user.pk)
    _customer_only(user)
    new_email = new_email.strip()
    validate_email(new_email)
    old_email = user.email
    if new_email.lower() == old_email.lower():
        raise ValidationError(_("O novo e-mail é igual ao atual."))
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise ValidationError(_("Já existe uma conta com este e-mail."))
    user.email = new_email
    user.save(update_fields=["email"])
    EmailAddress.objects.filter(user=user).delete()
    address = EmailAddress.objects.create(
        user=user, email=new_email, primary=True, verified=False
    )
    audit_record_create(
        actor=actor,
        customer=user,
        action="email_change",
        target=f"{_('Usuário')} #{user.pk}",
        before={"email": old_email},
        after={"email": new_email},
        reason=reason,
    )
    transaction.on_commit(partial(_confirmation_send, address, request))
    return user


def _confirmation_send(address: EmailAddress, request: HttpRequest | None) -> None:
    # allauth builds the link from the request it keeps in a context variable;
    # after commit that variable may already be gone, so set it again.
    with allauth_context.request_context(request):
        address.send_confirmation(request)


DEMO_LOGINS = (
    {
        "role": "Cliente de demonstração",
        "email": "demo@plugmessage.local",
        "password": "demo-plugmessage",
        "full_name": "Cliente Demonstração",
        "staff": False,
        "superuser": False,
    },
    {
        "role": "Equipe de suporte",
        "email": "suporte@plugmessage.local",
        "password": "suporte-plugmessage",
        "full_name": "Equipe de Suporte",
        "staff": True,
        "superuser": False,
    },
    {
        "role": "Administrador",
        "email": "admin@plugmessage.local",
        "password": "admin-plugmessage",
        "full_name": "Administrador",
        "staff": True,
        "superuser": True,
    },
)


@transaction.atomic
def demo_accounts_ensure() -> list[dict]:
    """Create the demo customer, a Suporte staff member and a superuser for
    `make run`, with verified emails and known passwords. Idempotent: running it
    again resets their passwords and nothing else."""
    group = support_group_sync()
    for login in DEMO_LOGINS:
        user = User.objects.filter(email__iexact=login["email"]).first()
        if user is None:
            user = User(email=login["email"])
        user.full_name = login["full_name"]
        user.is_staff = login["staff"]
        user.is_superuser = login["superuser"]
        user.set_password(login["password"])
        user.save()
        if login["staff"] and not login["superuser"]:
            user.groups.add(group)
        EmailAddress.objects.update_or_create(
            user=user,
            email=login["email"],
            defaults={"verified": True, "primary": True},
        )
    return [dict(login) for login in DEMO_LOGINS]


@transaction.atomic
def user_verification_resend(
    *, user: User, actor: User, reason: str, request: HttpRequest | None = None
) -> EmailAddress:
    """Send the customer's unverified address its confirmation link again,
    with an audit record. Atomic: an address created for it (when allauth
    has none) and the record commit together, and the email goes out after
    commit. Raises ValidationError when the address is already verified or
    the reason is empty."""
    _customer_only(user)
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(
            user=user, email=user.email, primary=True, verified=False
        )
    if address.verified:
        raise ValidationError(_("Este e-mail já está verificado."))
    audit_record_create(
        actor=actor,
        customer=user,
        action="verification_resend",
        target=f"{_('Usuário')} #{user.pk}",
        before={"email": user.email, "verified": False},
        after={"confirmation_sent": True},
        reason=reason,
    )
    transaction.on_commit(partial(_confirmation_send, address, request))
    return address
