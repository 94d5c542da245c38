"""Services that keep a number healthy (DESIGN rule 10): the exclusion list,
opt-out words, the warm-up (maturação) limit and the 24-hour wait."""

import csv
import functools
import io
import unicodedata
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from instances.models import DailySends, ExclusionEntry, ExclusionSource, Instance
from instances.phones import phone_from_engine, phone_to_e164

IMPORT_MAX_LINES = 50_000


def normalise(text: str) -> str:
    """Case, accents and spaces do not matter: " Sáir " == "SAIR"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def opt_out_words(instance: Instance) -> set[str]:
    return {
        normalise(word) for word in instance.opt_out_words.split(",") if normalise(word)
    }


# The exclusion list.


def is_excluded(instance: Instance, phone_e164: str) -> bool:
    """Whether the number is on the instance's exclusion list: the answer
    read with the instance itself when it was (exclusion_remember), else one
    query."""
    known = instance.__dict__.get("_exclusion_known")
    if known and known[0] == phone_e164:
        return known[1]
    return ExclusionEntry.objects.filter(instance=instance, phone=phone_e164).exists()


def exclusions_remember(pairs: list[tuple[Instance, str]]) -> None:
    """exclusion_remember for many (instance, number) pairs, read with one
    query (the sender checks a batch of messages at once). Each instance
    object keeps one answer: give each pair its own object."""
    if not pairs:
        return
    excluded = set(
        ExclusionEntry.objects.filter(
            instance_id__in={instance.pk for instance, _phone in pairs},
            phone__in={phone for _instance, phone in pairs},
        ).values_list("instance_id", "phone")
    )
    for instance, phone in pairs:
        exclusion_remember(instance, phone, (instance.pk, phone) in excluded)


def exclusion_remember(instance: Instance, phone_e164: str, excluded: bool) -> None:
    """Keep an answer read with the instance on it, so
    is_excluded(instance, phone_e164) needs no query of its own. Good for
    the request or task that read it: the list may change afterwards, and
    the worker checks again before it sends."""
    instance._exclusion_known = (phone_e164, bool(excluded))


def exclusion_add(
    *,
    instance: Instance,
    phone: str,
    reason: str,
    source: str,
    actor: User | None = None,
) -> tuple[ExclusionEntry, bool]:
    """Put a number on the instance's exclusion list; returns (entry, created).
    Idempotent. Raises ValidationError for an invalid number."""
    e164 = (
        phone_to_e164(phone)
        if source != ExclusionSource.OPT_OUT
        else phone_from_engine(phone)
    )
    try:
        with transaction.atomic():
            return ExclusionEntry.objects.get_or_create(
                instance=instance,
                phone=e164,
                defaults={
                    "reason": reason[:200],
                    "source": source,
                    "created_by": actor,
                },
            )
    except IntegrityError:  # added at the same moment by another request
        return ExclusionEntry.objects.get(instance=instance, phone=e164), False


def exclusion_remove(*, instance: Instance, entry_id: int) -> bool:
    deleted, _rows = ExclusionEntry.objects.filter(
        instance=instance, pk=entry_id
    ).delete()
    return bool(deleted)


def exclusion_import_csv(*, instance: Instance, content: bytes, actor: User) -> dict:
    """Add the numbers of a CSV (one per line: number[,reason]); a header
    line is allowed. Returns a report: added, already listed, and each rejected
    line with its number and why."""
    text = content.decode("utf-8-sig", errors="replace")
    report = {"added": 0, "already": 0, "rejected": []}
    rows = csv.reader(io.StringIO(text))
    number = 0
    while True:
        number += 1
        if number > IMPORT_MAX_LINES:
            report["rejected"].append(
                (number, "", _("Arquivo longo demais: o resto foi ignorado."))
            )
            break
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            report["rejected"].append(
                (number, "", _("Linha ilegível: %(error)s") % {"error": error})
            )
            continue
        if not row or not "".join(row).strip():
            continue
        raw = row[0].strip()
        if number == 1 and not any(ch.isdigit() for ch in raw):
            continue  # a header
        reason = row[1].strip() if len(row) > 1 else _("Importado de CSV")
        try:
            _entry, created = exclusion_add(
                instance=instance,
                phone=raw,
                reason=reason,
                source=ExclusionSource.CUSTOMER,
                actor=actor,
            )
        except ValidationError as error:
            report["rejected"].append((number, raw, error.messages[0]))
            continue
        report["added" if created else "already"] += 1
    return report


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with one of these as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def exclusion_export_csv(instance: Instance) -> str:
    """The list as CSV, with a BOM so spreadsheets read the accents, and
    every cell safe to open in one."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["numero", "motivo", "origem", "quando"])
    for entry in ExclusionEntry.objects.filter(instance=instance).order_by(
        "created_at"
    ):
        writer.writerow(
            [
                entry.phone,
                _cell(entry.reason),
                entry.get_source_display(),
                timezone.localtime(entry.created_at).isoformat(),
            ]
        )
    return out.getvalue()


def opt_out_apply(
    *, instance: Instance, phone: str, text: str
) -> ExclusionEntry | None:
    """If an inbound `text` is one of the instance's opt-out words, put its
    sender on the exclusion list at once. Returns the new entry, or None."""
    word = normalise(text)
    if not word or word not in opt_out_words(instance):
        return None
    entry, created = exclusion_add(
        instance=instance,
        phone=phone,
        reason=_("Respondeu “%(text)s”") % {"text": text.strip()[:60]},
        source=ExclusionSource.OPT_OUT,
    )
    return entry if created else None


# Maturação: the daily limit of a newly connected number.


def _today(now: datetime | None = None):
    return timezone.localtime(now or timezone.now()).date()


def warmup_day(instance: Instance, now: datetime | None = None) -> int | None:
    """The day of warm-up the number is in (0 on its first day), counted in
    São Paulo days since it was first connected here; None before that."""
    started = instance.warmup_started_at or instance.connected_at
    if not started:
        return None
    return max(0, (_today(now) - timezone.localtime(started).date()).days)


def warmup_limit(instance: Instance, now: datetime | None = None) -> int:
    """Today's daily limit: the plan's figure for the number's day of warm-up
    (its first day's figure before the first connection)."""
    plan = instance.warmup_plan or [1000]
    day = warmup_day(instance, now) or 0
    return int(plan[min(day, len(plan) - 1)])


def warmup_usage(instance: Instance, now: datetime | None = None) -> tuple[int, int]:
    row = DailySends.objects.filter(instance=instance, day=_today(now)).first()
    return (row.count if row else 0), warmup_limit(instance, now)


def seconds_until_tomorrow(now: datetime | None = None) -> int:
    local = timezone.localtime(now or timezone.now())
    midnight = timezone.make_aware(
        datetime.combine(local.date() + timedelta(days=1), time.min)
    )
    return max(1, int((midnight - local).total_seconds()))


def warmup_take(instance: Instance) -> bool:
    """Count one send against today's limit, if there is room. One
    conditional UPDATE, so concurrent sends can never pass the limit; the
    day's row is created only by the first send of the day."""
    limit = warmup_limit(instance)
    today = _today()
    todays = DailySends.objects.filter(instance=instance, day=today)
    if todays.filter(count__lt=limit).update(count=F("count") + 1):
        return True
    DailySends.objects.get_or_create(instance=instance, day=today)  # a new day
    return bool(todays.filter(count__lt=limit).update(count=F("count") + 1))


def warmup_take_inserting(instance: Instance, row: Model) -> bool:
    """PostgreSQL: count one send against today's limit and insert `row` (a
    new, unsaved model instance) in one statement, atomic by itself (a
    data-modifying CTE: the INSERT reads the UPDATE's result), so the
    request needs neither a transaction nor a second round trip. True when
    both happened. False when today's count has no row yet or is at the
    limit: nothing was counted or inserted, and the caller goes the general
    way (warmup_take, then its own insert, in a transaction), which tells
    the two apart. `row`'s primary key is set in Python (a UUID)."""
    if row.pk is None:
        raise ValueError("warmup_take_inserting needs a primary key set in Python")
    fields, sql = _warmup_insert_sql(type(row))
    values = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [instance.pk, _today(), warmup_limit(instance), *values])
        inserted = cursor.rowcount == 1
    if inserted:
        row._state.adding = False
        row._state.db = connection.alias
    return inserted


@functools.cache
def _warmup_insert_sql(model: type[Model]) -> tuple[list, str]:
    """The fields of `model` and the statement of warmup_take_inserting for
    it (written once: the models do not change while the process runs)."""
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    quote = connection.ops.quote_name
    # INSERT ... SELECT types its values from the expressions, not from the
    # columns as INSERT ... VALUES does: each one is cast to its column's type.
    selected = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    # Table and column names come from the models; every value is bound.
    sql = (
        f"WITH taken AS (UPDATE {quote(DailySends._meta.db_table)}"  # noqa: S608
        " SET count = count + 1"
        " WHERE instance_id = %s AND day = %s AND count < %s RETURNING 1)"
        f" INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(f.column) for f in fields)})"
        f" SELECT {selected} FROM taken"
    )
    return fields, sql


def activation_day_over_at(instance: Instance) -> datetime | None:
    """The 24 h rule, in its one home: the moment from which a full day has
    surely passed since the number was activated, or None when the customer
    has not said when that was. Only the date is known, and the number may
    have been activated at the very end of it, so the day is over at the
    start of the second day after it (São Paulo time)."""
    if not instance.number_activated_at:
        return None
    return timezone.make_aware(
        datetime.combine(instance.number_activated_at + timedelta(days=2), time.min)
    )


def activated_recently(instance: Instance, now: datetime | None = None) -> bool:
    """True while the number may have been activated less than 24 h ago."""
    over_at = activation_day_over_at(instance)
    return over_at is not None and (now or timezone.now()) < over_at


def waited_after_activation(instance: Instance) -> bool | None:
    """Whether the number was first connected here only after a full day
    had surely passed since its activation; None while either is unknown."""
    over_at = activation_day_over_at(instance)
    started = instance.warmup_started_at or instance.connected_at
    if over_at is None or started is None:
        return None
    return started >= over_at
