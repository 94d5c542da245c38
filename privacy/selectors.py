from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from instances.models import Instance, Message, ReceivedMessage, SimulatedMessage
from instances.phones import phone_display
from privacy.models import ContactErasure
from webhooks.models import EventKind, WebhookEvent

# What an erasure counts, in the words the customer reads.
ERASED_KINDS = {
    "sent": _("mensagens enviadas"),
    "received": _("mensagens recebidas"),
    "simulated": _("mensagens do celular simulado"),
    "media": _("arquivos de mídia"),
    "events": _("eventos de webhook"),
    "deliveries": _("entregas de webhook"),
    "engine_events": _("avisos do WhatsApp guardados"),
    "left": _("itens em envio neste momento, não apagados"),
}
# Events about a contact; those about the instance's connection are not.
CONTACT_EVENT_KINDS = [
    EventKind.MESSAGE_RECEIVED,
    EventKind.MESSAGE_SENT,
    EventKind.MESSAGE_STATUS,
    EventKind.CHAT_PRESENCE,
]


@dataclass(frozen=True)
class ContactRows:
    sent: QuerySet
    received: QuerySet
    simulated: QuerySet
    events: QuerySet


def contact_rows(instance: Instance, phone: str) -> ContactRows:
    """What `instance` holds about the E.164 `phone`. Webhook events name
    the contact in `data` (to, from or chat) in PlugMessage's format, and in
    `phone` (digits) in Z-API's."""
    about = (
        Q(payload__data__to=phone)
        | Q(payload__data__from=phone)
        | Q(payload__data__chat=phone)
        | Q(payload__phone=phone.lstrip("+"))
    )
    return ContactRows(
        sent=Message.objects.filter(instance=instance, to=phone),
        received=ReceivedMessage.objects.filter(instance=instance, phone=phone),
        simulated=SimulatedMessage.objects.filter(
            engine_ref=instance.engine_ref, to=phone
        ),
        events=WebhookEvent.objects.filter(
            instance=instance, kind__in=CONTACT_EVENT_KINDS
        ).filter(about),
    )


def contact_data_count(instance: Instance, phone: str) -> dict[str, int]:
    """How many of each kind an erasure of `phone` would delete now (media:
    the files of its messages)."""
    rows = contact_rows(instance, phone)
    media = set()
    for queryset in (rows.sent, rows.received, rows.simulated):
        media.update(
            queryset.filter(media__isnull=False).values_list("media_id", flat=True)
        )
    return {
        "sent": rows.sent.count(),
        "received": rows.received.count(),
        "simulated": rows.simulated.count(),
        "media": len(media),
        "events": rows.events.count(),
    }


def erasure_lines(counts: dict[str, int]) -> list[tuple[int, str]]:
    """(count, words) of each kind with something, in ERASED_KINDS order."""
    return [
        (counts[kind], words)
        for kind, words in ERASED_KINDS.items()
        if counts.get(kind)
    ]


def erasures_for_instance(instance: Instance, *, limit: int = 10) -> list:
    return list(
        ContactErasure.objects.filter(instance=instance).order_by("-created_at", "-id")[
            :limit
        ]
    )


def erasure_for_instance(instance: Instance, erasure_id: int):
    return ContactErasure.objects.filter(instance=instance, pk=erasure_id).first()


def phone_masked(e164: str) -> str:
    """+5521998765432 → +55 21 *****-5432: enough to tell numbers apart in
    a list, not enough to contact anyone."""
    shown = phone_display(e164)
    total = sum(ch.isdigit() for ch in shown)
    seen, masked = 0, []
    for ch in shown:
        if ch.isdigit():
            seen += 1
            masked.append(ch if seen <= 4 or seen > total - 4 else "*")
        else:
            masked.append(ch)
    return "".join(masked)
