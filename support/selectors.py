"""Queries of the support pages."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import AuditRecord, User
from billing import dates as billing_dates
from billing import selectors as billing_selectors
from billing.models import Charge, ChargeStatus, Invoice, InvoiceStatus
from instances import health
from instances import selectors as instance_selectors
from instances.models import Instance, InstanceEvent
from support.models import Ticket, TicketAttachment, TicketMessage
from webhooks.models import WebhookEndpoint


def tickets_for_user(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(account=user).select_related("instance")


def ticket_for_user(user: User, ticket_id) -> Ticket | None:
    return (
        Ticket.objects.filter(account=user, pk=ticket_id)
        .select_related("instance")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=TicketMessage.objects.select_related(
                    "author"
                ).prefetch_related("attachments"),
            )
        )
        .first()
    )


def attachment_for_user(
    user: User, ticket_id, attachment_id
) -> TicketAttachment | None:
    return TicketAttachment.objects.filter(
        pk=attachment_id,
        message__ticket_id=ticket_id,
        message__ticket__account=user,
    ).first()


@dataclass(frozen=True)
class PracticeCheck:
    practice: str  # anchor on the Boas práticas page
    label: str
    followed: bool | None  # None: the panel cannot tell
    detail: str
    url: str = ""  # where the panel lets the customer act on it


def practices_for_user(user: User) -> list[tuple[Instance, list[PracticeCheck]]]:
    """ "Boas práticas": the checklist of each of the customer's newest 20
    instances, in one query whatever their number (each instance's
    exclusion list is counted in it)."""
    instances = instance_selectors.instance_list_for_user(user).annotate(
        exclusion_count=Count("exclusions")
    )[:20]
    return [(instance, practices_for_instance(instance)) for instance in instances]


def practices_for_instance(instance: Instance) -> list[PracticeCheck]:
    """Which good practices an instance follows, as far as the panel knows.
    Counts its exclusion list unless the query already did
    (`exclusion_count`, as practices_for_user does)."""
    words = [w for w in instance.opt_out_words.split(",") if w.strip()]
    day = health.warmup_day(instance)
    plan_days = len(instance.warmup_plan or [1])
    detail_url = reverse("instances:detail", args=[instance.pk])
    edit_url = reverse("instances:edit", args=[instance.pk])
    exclusions_url = reverse("instances:exclusions", args=[instance.pk])
    excluded = getattr(instance, "exclusion_count", None)
    if excluded is None:
        excluded = instance.exclusions.count()
    activated = instance.number_activated_at
    waited = health.waited_after_activation(instance)
    return [
        PracticeCheck(
            "maturacao",
            _("Maturação do número"),
            None if day is None else day >= plan_days - 1,
            _("Ainda não conectado.")
            if day is None
            else _("Concluída: o limite diário chegou ao máximo.")
            if day >= plan_days - 1
            else _("Dia %(day)d de %(days)d: limite de hoje %(limit)d envios.")
            % {
                "day": day + 1,
                "days": plan_days,
                "limit": health.warmup_limit(instance),
            },
            detail_url,
        ),
        PracticeCheck(
            "descadastro",
            _("Palavras de descadastro ativas"),
            bool(words),
            ", ".join(w.strip() for w in words) or _("Nenhuma palavra configurada."),
            edit_url,
        ),
        PracticeCheck(
            "descadastro",
            _("Confirmação enviada a quem sai"),
            bool(instance.opt_out_reply.strip()),
            _("Configurada.")
            if instance.opt_out_reply.strip()
            else _("Sem resposta configurada."),
            edit_url,
        ),
        PracticeCheck(
            "lista-de-exclusao",
            _("Lista de exclusão em uso"),
            excluded > 0,
            _("%(n)d números na lista.") % {"n": excluded},
            exclusions_url,
        ),
        PracticeCheck(
            "24-horas",
            _("Esperou 24 h após ativar o número"),
            waited,
            _("Informe a data de ativação em Editar.")
            if not activated
            else _("Ainda não conectado.")
            if waited is None
            else _("Conectado depois de completar 24 h.")
            if waited
            else _("Conectado antes de completar 24 h."),
            edit_url,
        ),
        _profile_check(instance, edit_url),
    ]


def _profile_check(instance: Instance, edit_url: str) -> PracticeCheck:
    missing = [
        label
        for label, value in (
            (_("nome"), instance.profile_name),
            (_("recado"), instance.profile_about),
            (_("foto"), instance.profile_picture_id),
        )
        if not value
    ]
    return PracticeCheck(
        "perfil",
        _("Perfil do WhatsApp completo"),
        not missing,
        _("Nome, recado e foto definidos.")
        if not missing
        else _("Falta: %(parts)s.") % {"parts": ", ".join(missing)},
        edit_url + "#perfil",
    )


@dataclass(frozen=True)
class Customer360:
    """Everything staff see about one account on its 360 page."""

    verified: bool
    instances: list[Instance]  # each with last_events, its newest 3
    invoices: list[Invoice]  # each with overdue
    payments: list
    tickets: list[Ticket]
    failing_endpoints: list[WebhookEndpoint]
    audit: list[AuditRecord]


CUSTOMER_360_ROWS = 24


def customer_360(customer: User) -> Customer360:
    """The 360 page's lists, in a fixed number of queries whatever the number
    of instances, invoices, payments, tickets or records."""
    latest_events = InstanceEvent.objects.order_by("-created_at", "-id")[:3]
    invoices = list(
        Invoice.objects.filter(account=customer)
        .prefetch_related(
            Prefetch(
                "charges",
                queryset=Charge.objects.filter(status=ChargeStatus.ACTIVE),
                to_attr="active_charges",
            )
        )
        .order_by("-period")[:CUSTOMER_360_ROWS]
    )
    today = billing_dates.today()
    for invoice in invoices:
        invoice.overdue = _invoice_overdue(invoice, today)
    return Customer360(
        verified=customer.emailaddress_set.filter(verified=True).exists(),
        instances=list(
            instance_selectors.instance_list_for_user(customer).prefetch_related(
                Prefetch("events", queryset=latest_events, to_attr="last_events")
            )
        ),
        invoices=invoices,
        payments=list(
            billing_selectors.payments_for_user(customer).order_by("-paid_on")[
                :CUSTOMER_360_ROWS
            ]
        ),
        tickets=list(
            Ticket.objects.filter(account=customer).order_by("-updated_at")[
                :CUSTOMER_360_ROWS
            ]
        ),
        failing_endpoints=list(
            WebhookEndpoint.objects.filter(instance__owner=customer)
            .exclude(failing_since__isnull=True, disabled_at__isnull=True)
            .select_related("instance")
        ),
        audit=list(
            AuditRecord.objects.filter(customer=customer).select_related("actor")[:50]
        ),
    )


def _invoice_overdue(invoice: Invoice, today) -> bool:
    """Invoice.is_overdue read from the prefetched active charge: the
    property asks the database once per invoice, which on a list is an N+1.
    The same rule (open, and past the due date of its active boleto, or of
    the invoice when it has none); a test holds the two together."""
    if invoice.status != InvoiceStatus.OPEN:
        return False
    active = invoice.active_charges[0] if invoice.active_charges else None
    return (active.due_date if active else invoice.due_date) < today
