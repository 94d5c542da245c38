import functools
import hashlib
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Max, QuerySet

from accounts.models import User
from instances import health, media
from instances.models import (
    ExclusionEntry,
    ExclusionImport,
    Instance,
    InstanceEvent,
    MessageKind,
    SimulatedMessage,
    token_digest,
)


def instance_list_for_user(user: User) -> QuerySet[Instance]:
    """The customer's instances, newest first: one query whatever their number."""
    return Instance.objects.filter(owner=user).order_by("-created_at")


def instance_for_user(user: User, instance_id) -> Instance | None:
    """The instance if it belongs to `user`, else None (the caller answers 404,
    so another customer cannot even learn that it exists)."""
    return Instance.objects.filter(owner=user, pk=instance_id).first()


def instance_timeline(instance: Instance, *, limit: int = 20) -> list[InstanceEvent]:
    return list(
        instance.events.select_related("actor").order_by("-created_at", "-id")[:limit]
    )


def exclusion_import_for_instance(instance: Instance, import_id: int):
    """One import of the instance, without its uploaded text (polled)."""
    return (
        ExclusionImport.objects.filter(instance=instance, pk=import_id)
        .defer("content")
        .first()
    )


def exclusion_imports_recent(instance: Instance, *, limit: int = 3) -> list:
    return list(
        ExclusionImport.objects.filter(instance=instance)
        .defer("content", "report")
        .order_by("-created_at", "-id")[:limit]
    )


def exclusions_for_instance(instance: Instance, *, search: str = "") -> QuerySet:
    entries = ExclusionEntry.objects.filter(instance=instance).select_related(
        "created_by"
    )
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        entries = (
            entries.filter(phone__contains=digits)
            if digits
            else entries.filter(reason__icontains=search)
        )
    return entries.order_by("-created_at")


# The simulated phone.

CONVERSATION_LENGTH = 60


@dataclass
class SimulatedConversation:
    """One chat of the simulated phone with the instance: its messages,
    oldest first, each with `link` (its file's download path, or "") and
    `reactions` (the reactions it got, latest per side); and `version`,
    which changes whenever anything shown changes."""

    contact: str
    messages: list[SimulatedMessage] = field(default_factory=list)
    version: str = ""


def simulated_contacts(instance: Instance) -> list[str]:
    """The numbers the instance has a simulated chat with, latest first."""
    return list(
        SimulatedMessage.objects.filter(engine_ref=instance.engine_ref)
        .values("to")
        .annotate(last=Max("sent_at"))
        .order_by("-last")
        .values_list("to", flat=True)
    )


def simulated_conversation(
    instance: Instance, *, contact: str
) -> SimulatedConversation:
    """The latest messages between the instance and `contact` on the
    simulator, in one query whatever their number."""
    rows = list(
        SimulatedMessage.objects.filter(engine_ref=instance.engine_ref, to=contact)
        .select_related("media")
        .order_by("-sent_at", "-id")[:CONVERSATION_LENGTH]
    )
    rows.reverse()
    by_id = {row.message_id: row for row in rows}
    shown = []
    for row in rows:
        row.link = media.media_link_path(row.media, kind=row.kind) if row.media else ""
        row.reactions = {}
    for row in rows:
        if row.kind != MessageKind.REACTION:
            shown.append(row)
            continue
        target = by_id.get(row.reply_to)
        if target is not None:
            # One reaction per person and message: the latest replaces it.
            target.reactions["contact" if row.inbound else "instance"] = (
                row.content.get("emoji", "")
            )
    seen = "|".join(
        f"{row.message_id}:{row.status}:{row.media_id}:{sorted(row.reactions.items())}"
        for row in shown
    )
    return SimulatedConversation(
        contact=contact,
        messages=shown,
        version=hashlib.blake2s(seen.encode(), digest_size=8).hexdigest(),
    )


def instance_for_token(token: str, *, recipient: str | None = None) -> Instance | None:
    """The instance whose token digest matches `token`'s (the caller still
    compares the tokens themselves), or None. Its owner comes with what the
    API checks on every call, the Client-Token's switch and digest (other
    fields of the owner load when first read). Given the `recipient` of a
    send (E.164), the same query also reads whether that number is on the
    instance's exclusion list (health.is_excluded then needs no query).

    One query, written once per process: the API's hottest path, where
    building the same query through the ORM on every call (a join and a
    subquery) cost more than the rest of the lookup."""
    sql, names, converters = _instance_for_token_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [recipient or "", token_digest(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, (functions, expression) in converters:
        for convert in functions:
            values[position] = convert(values[position], expression, connection)
    found = Instance.from_db(connection.alias, names, values[: len(names)])
    enabled, digest, excluded = values[len(names) :]
    known = {
        "id": found.owner_id,
        "client_token_enabled": bool(enabled),
        "client_token_digest": digest,
    }
    found.owner = User.from_db(
        DEFAULT_DB_ALIAS, _OWNER_NAMES, [known[n] for n in _OWNER_NAMES]
    )
    if recipient:
        health.exclusion_remember(found, recipient, bool(excluded))
    return found


# The owner's fields instance_for_token reads, in the order of the model's
# fields (from_db takes them so); the others load when first read.
_OWNER_NAMES = [
    f.attname
    for f in User._meta.concrete_fields
    if f.attname in ("id", "client_token_enabled", "client_token_digest")
]


@functools.cache
def _instance_for_token_query() -> tuple[str, list[str], list[tuple]]:
    """The statement of instance_for_token, the attribute names of the
    instance's columns in the order it selects them, and the converters of
    the columns that have any (what a RawQuerySet works out again on every
    call: a tenth of a send's time)."""
    q = connection.ops.quote_name
    fields = Instance._meta.concrete_fields

    def column(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    selected = ", ".join(f"i.{q(f.column)}" for f in fields)
    sql = (
        f"SELECT {selected},"  # noqa: S608 - names from the models, values bound
        f" u.{column(User, 'client_token_enabled')},"
        f" u.{column(User, 'client_token_digest')},"
        f" EXISTS (SELECT 1 FROM {q(ExclusionEntry._meta.db_table)} e"
        f" WHERE e.{column(ExclusionEntry, 'instance')} = i.{column(Instance, 'id')}"
        f" AND e.{column(ExclusionEntry, 'phone')} = %s)"
        f" FROM {q(Instance._meta.db_table)} i"
        f" JOIN {q(User._meta.db_table)} u"
        f" ON u.{column(User, 'id')} = i.{column(Instance, 'owner')}"
        f" WHERE i.{column(Instance, 'token_digest')} = %s"
    )
    compiler = connection.ops.compiler("SQLCompiler")(
        Instance.objects.all().query, connection, connection.alias
    )
    columns = [f.get_col(Instance._meta.db_table) for f in fields]
    converters = sorted(compiler.get_converters(columns).items())
    return sql, [f.attname for f in fields], converters
