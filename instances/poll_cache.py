"""What the QR poll needs to answer "nothing changed" without a query: the
owner, the owner's session hash, the panel's version and whether it is
still waiting, per instance, in the shared cache. Every write that can
change the panel forgets the entry; the poll's full path stores it again.
The short timeout bounds any staleness, a forget lost to a Redis outage
included."""

from functools import partial

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from instances.models import Instance

TIMEOUT = 30


def _key(instance_id) -> str:
    return f"instance-poll:{instance_id}"


def poll_state_get(instance_id) -> dict | None:
    return cache.get(_key(instance_id))


def poll_unchanged(*, session: SessionBase, instance_id, version: str | None) -> bool:
    """Whether the page that asks, logged in with `session` and showing
    `version`, already shows the current panel of an instance of its own
    user, still waiting for a scan. Reads the session and the entry in one
    cache round trip when the session engine can (plugmessage.sessions),
    and queries nothing while both are cached. False means "take the full
    path": it is never a refusal."""
    if not version or session.session_key is None:
        return False
    load_with = getattr(session, "load_with", None)
    state = load_with(_key(instance_id)) if load_with else poll_state_get(instance_id)
    return bool(
        state
        and state["waiting"]
        and state["version"] == version
        and state["owner"] == str(session.get(SESSION_KEY))
        # The hash Django's login check compares: once the entry is stored
        # again after a password change (a new page, or TIMEOUT later), a
        # session from before it takes the full path and is logged out.
        and state["auth"] == session.get(HASH_SESSION_KEY)
    )


def poll_state_store(instance: Instance, user: User) -> None:
    """Remember `instance`'s panel for its owner `user` (the request's user,
    who passed the ownership check)."""
    cache.set(
        _key(instance.pk),
        {
            "owner": str(instance.owner_id),
            "auth": user.get_session_auth_hash(),
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
