"""Queries of the support pages."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from instances import health
from instances.models import Instance
from support.models import Ticket, TicketAttachment, TicketMessage


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


def practices_for_instance(instance: Instance) -> list[PracticeCheck]:
    """Which good practices an instance follows, as far as the panel knows."""
    words = [w for w in instance.opt_out_words.split(",") if w.strip()]
    day = health.warmup_day(instance)
    plan_days = len(instance.warmup_plan or [1])
    detail_url = reverse("instances:detail", args=[instance.pk])
    edit_url = reverse("instances:edit", args=[instance.pk])
    exclusions_url = reverse("instances:exclusions", args=[instance.pk])
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
