"""What the QR poll needs to answer "nothing changed" without a query: the
owner, the panel's version and whether it is still waiting, per instance, in
the shared cache. Every write that can change the panel forgets the entry;
the poll's full path stores it again. The short timeout bounds any staleness."""

from functools import partial

from django.core.cache import cache
from django.db import transaction

from instances.models import Instance

TIMEOUT = 30


def _key(instance_id) -> str:
    return f"instance-poll:{instance_id}"


def poll_state_get(instance_id) -> dict | None:
    return cache.get(_key(instance_id))


def poll_state_store(instance: Instance) -> None:
    cache.set(
        _key(instance.pk),
        {
            "owner": str(instance.owner_id),
            "version": instance.poll_version,
            "waiting": instance.awaiting_scan,
        },
        TIMEOUT,
    )


def poll_state_forget(instance_id) -> None:
    """Forget now, and again once the transaction commits, so a poll running
    in between cannot store the state from before the change."""
    key = _key(instance_id)
    cache.delete(key)
    transaction.on_commit(partial(cache.delete, key))
