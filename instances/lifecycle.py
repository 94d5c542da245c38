"""The instance state machine (rule 3). The allowed transitions are data; one
function applies a transition and records it. Nothing else writes `state`."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instances.models import ActorKind, Instance, InstanceEvent, InstanceState
from instances.poll_cache import poll_state_forget
from plugmessage.locks import lock_one
from webhooks.services import event_emit

S = InstanceState

TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.WAITING_SCAN, S.EXPIRED, S.CANCELLED}),
    S.WAITING_SCAN: frozenset({S.CONNECTED, S.DISCONNECTED, S.EXPIRED, S.CANCELLED}),
    S.CONNECTED: frozenset({S.DISCONNECTED, S.EXPIRED, S.CANCELLED}),
    S.DISCONNECTED: frozenset({S.WAITING_SCAN, S.EXPIRED, S.CANCELLED}),
    # Out of "Expirado" or "Cancelada" only through a new subscription, which
    # makes it "Desconectado" (instance_subscription_begin): never straight
    # to a new session.
    S.EXPIRED: frozenset({S.DISCONNECTED}),
    S.CANCELLED: frozenset({S.DISCONNECTED}),
}


class TransitionNotAllowed(Exception):
    def __init__(self, instance: Instance, to_state: str):
        self.from_state = instance.state
        self.to_state = to_state
        super().__init__(
            _("Não é possível passar de “%(from)s” para “%(to)s”.")
            % {"from": S(instance.state).label, "to": S(to_state).label}
        )


def can_transition(instance: Instance, to_state: str) -> bool:
    return to_state in TRANSITIONS[instance.state]


def instance_record_creation(
    *, instance: Instance, actor_kind: str, actor=None
) -> InstanceEvent:
    """The first event of an instance: it came into being as "Criada"."""
    return InstanceEvent.objects.create(
        instance=instance,
        from_state="",
        to_state=instance.state,
        cause=_("Instância criada"),
        actor_kind=actor_kind,
        actor=actor,
    )


@transaction.atomic
def transition(
    *,
    instance: Instance,
    to_state: str,
    cause: str,
    actor_kind: str = ActorKind.SYSTEM,
    actor=None,
    **changes,
) -> Instance:
    """Move `instance` to `to_state`, saving `changes` to other fields in the
    same UPDATE, and record an InstanceEvent.

    Atomic; locks the row so two concurrent transitions serialise. Raises
    TransitionNotAllowed when the current state does not lead to `to_state`,
    and lets IntegrityError through (a number live elsewhere, rule 2).
    """
    locked = lock_one(Instance, pk=instance.pk)
    if not can_transition(locked, to_state):
        raise TransitionNotAllowed(locked, to_state)
    from_state = locked.state
    locked.state = to_state
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.updated_at = timezone.now()
    locked.save(update_fields=["state", "updated_at", *changes])
    InstanceEvent.objects.create(
        instance=locked,
        from_state=from_state,
        to_state=to_state,
        cause=cause,
        actor_kind=actor_kind,
        actor=actor,
    )
    _announce(locked, from_state, to_state, cause)
    poll_state_forget(locked.pk)
    # Keep the caller's object in step with the row.
    instance.__dict__.update(
        {f.attname: getattr(locked, f.attname) for f in Instance._meta.concrete_fields}
    )
    return instance


def _announce(instance: Instance, from_state: str, to_state: str, cause: str) -> None:
    """Tell the customer's systems, in this same transaction, when the number
    becomes connected or stops being connected."""
    if to_state == S.CONNECTED:
        event_emit(
            instance=instance,
            kind="instance.connected",
            data={"phone": instance.phone_number, "state": "connected"},
        )
    elif from_state == S.CONNECTED:
        event_emit(
            instance=instance,
            kind="instance.disconnected",
            data={"phone": instance.phone_number, "state": to_state, "reason": cause},
        )
