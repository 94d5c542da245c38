from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from instances.phones import phone_display
from instances.qr import qr_svg

register = template.Library()

STATE_BADGES = {
    "created": "badge-muted",
    "waiting_scan": "badge-warn",
    "connected": "badge-ok",
    "disconnected": "badge-danger",
    "expired": "badge-danger",
    "cancelled": "badge-muted",
}


SIMULATED_STATUS = {
    "sent": gettext_lazy("enviada"),
    "delivered": gettext_lazy("entregue"),
    "read": gettext_lazy("lida"),
    "deleted": gettext_lazy("apagada"),
}


@register.filter
def simulated_status(status: str) -> str:
    """A simulated message's status as the phone shows it."""
    return SIMULATED_STATUS.get(status, status)


@register.filter
def file_extension(file_name: str) -> str:
    """ "boleto.pdf" → "PDF": the badge of a document in a conversation."""
    stem, dot, extension = (file_name or "").rpartition(".")
    return extension[:4].upper() if dot and stem else "DOC"


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "badge-muted")


@register.filter
def phone(e164: str) -> str:
    return phone_display(e164)


@register.filter
def time_left(moment: datetime | None) -> str:
    """ "1 dia e 5 h", "3 h e 20 min", "12 min" until `moment`; "" once past."""
    if moment is None:
        return ""
    seconds = int((moment - timezone.now()).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not (days or hours) else rest // 60
    if days:
        text = ngettext("%(n)d dia", "%(n)d dias", days) % {"n": days}
        return text + (_(" e %(h)d h") % {"h": hours} if hours else "")
    if hours:
        return _("%(h)d h") % {"h": hours} + (
            _(" e %(m)d min") % {"m": minutes} if minutes else ""
        )
    return _("%(m)d min") % {"m": minutes}


@register.filter
def seconds_left(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return max(0, int((moment - timezone.now()).total_seconds()))


@register.simple_tag
def qr_image(content: str):
    return qr_svg(content)


@register.filter
def may_work(instance) -> bool:
    """Subscribed, or within its trial (rule 6)."""
    from instances.messaging import instance_may_work

    return instance_may_work(instance)
