"""Services that keep a number healthy (DESIGN rule 10): the exclusion list,
opt-out words, the warm-up (maturação) limit and the 24-hour wait."""

import csv
import functools
import io
import itertools
import unicodedata
from datetime import datetime, time, timedelta

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from instances.models import (
    DailySends,
    ExclusionEntry,
    ExclusionImport,
    ExclusionSource,
    ImportStatus,
    Instance,
)
from instances.phones import phone_from_engine, phone_to_e164
from plugmessage.broker import broker_ask
from plugmessage.locks import LockTimeout, lock_one

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


def exclusion_import_decode(content: bytes) -> str:
    """The text of an uploaded CSV, as the import reads it (UTF-8, with or
    without a BOM; a byte that is not UTF-8 becomes a replacement
    character and its line is rejected). Raises ValidationError for a file
    that is not text at all (a spreadsheet, an image)."""
    if b"\x00" in content[:65536]:
        raise ValidationError(
            _(
                "Este arquivo não é um CSV de texto. Na planilha, use “Salvar como” "
                "e escolha CSV."
            )
        )
    return content.decode("utf-8-sig", errors="replace")


def _csv_records(text: str):
    """(number, row, why) for each record of the CSV, numbered from 1: `row`
    is None with `why` for an unreadable record, and the record past
    IMPORT_MAX_LINES is the last (the rest is ignored)."""
    rows = csv.reader(io.StringIO(text))
    number = 0
    while True:
        number += 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, None, _("Linha ilegível: %(error)s") % {"error": error}
            continue
        if number > IMPORT_MAX_LINES:
            yield number, None, _("Arquivo longo demais: o resto foi ignorado.")
            return
        yield number, row, ""


def exclusion_import_csv(
    *,
    instance: Instance,
    content: bytes | str,
    actor: User | None,
    report: dict | None = None,
    max_lines: int | None = None,
) -> dict:
    """Add the numbers of a CSV (one per line: number[,reason]); a header
    line is allowed. Returns a report: added, already listed, and each rejected
    line with its number and why; `lines` is how many lines were read and
    `done` whether the file is over.

    In batches: given the report of the lines read so far, it goes on after
    them, for at most `max_lines` lines (all of them when None). Each number
    is added on its own (exclusion_add: idempotent), so the caller chooses
    the transaction."""
    text = exclusion_import_decode(content) if isinstance(content, bytes) else content
    report = {"added": 0, "already": 0, "rejected": [], "lines": 0, **(report or {})}
    start = report["lines"]
    stop = None if max_lines is None else start + max_lines
    read = 0
    for number, row, why in itertools.islice(_csv_records(text), start, stop):
        read += 1
        report["lines"] = number
        if row is None:
            report["rejected"].append((number, "", why))
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
    report["done"] = max_lines is None or read < max_lines
    return report


# The import as a job: checked in the request, run by a task in batches.

IMPORT_TASK = "instances.tasks.exclusion_import_run_task"
# Lines a transaction (each holds its import's row locked), and a task: the
# rest goes on in the next task, so no task runs for minutes.
IMPORT_BATCH_LINES = 500
IMPORT_LINES_PER_TASK = 5_000
# A pending import with no progress for this long is started again by beat.
IMPORT_RESUME_AFTER = timedelta(minutes=1)


def _import_ask(import_id: int) -> None:
    broker_ask(
        "exclusion imports",
        functools.partial(current_app.send_task, IMPORT_TASK, args=[import_id]),
    )


def exclusion_import_request(
    *, instance: Instance, content: bytes, file_name: str, actor: User
) -> ExclusionImport:
    """Keep an uploaded CSV as an import of `instance` and ask for the task
    that runs it (exclusion_import_run) after commit. Raises ValidationError
    for a file that is not text (exclusion_import_decode). While the broker
    is down nothing is raised: the import waits, and beat's
    exclusion_imports_resume starts it a minute later."""
    text = exclusion_import_decode(content)
    job = ExclusionImport.objects.create(
        instance=instance,
        requested_by=actor,
        file_name=file_name[:200],
        content=text,
        line_count=min(len(text.splitlines()), IMPORT_MAX_LINES),
    )
    transaction.on_commit(functools.partial(_import_ask, job.pk), robust=True)
    return job


def exclusion_import_run(*, import_id: int) -> ExclusionImport | None:
    """Import the numbers of an uploaded CSV (exclusion_import_csv), a
    transaction every IMPORT_BATCH_LINES lines: the import's row is locked,
    the batch added and the report saved together, so a task that dies
    loses nothing and counts nothing twice, and two tasks of one import take
    turns. After IMPORT_LINES_PER_TASK lines it asks for another task for
    the rest. When the file is over the import is done and its text is
    deleted. Idempotent: an import already done is returned as it is; one
    another task holds right now, or deleted meanwhile, gives None."""
    job = (
        ExclusionImport.objects.select_related("instance", "requested_by")
        .filter(pk=import_id)
        .first()
    )
    if job is None:
        return None
    instance, actor = job.instance, job.requested_by
    for _batch in range(IMPORT_LINES_PER_TASK // IMPORT_BATCH_LINES):
        try:
            with transaction.atomic():
                # The import's row only: a join would lock the instance too.
                job = lock_one(ExclusionImport, pk=import_id)
                if job.status == ImportStatus.DONE:
                    return job
                job.report = exclusion_import_csv(
                    instance=instance,
                    content=job.content,
                    actor=actor,
                    report=job.report,
                    max_lines=IMPORT_BATCH_LINES,
                )
                job.updated_at = timezone.now()
                fields = ["report", "updated_at"]
                if job.report["done"]:
                    job.status, job.finished_at = ImportStatus.DONE, job.updated_at
                    job.content = ""
                    fields += ["status", "finished_at", "content"]
                job.save(update_fields=fields)
        except (LockTimeout, ExclusionImport.DoesNotExist):
            return None
        if job.status == ImportStatus.DONE:
            return job
    transaction.on_commit(functools.partial(_import_ask, job.pk), robust=True)
    return job


def exclusion_imports_resume(*, now: datetime | None = None) -> int:
    """Ask again for the task of each import left pending with no progress
    for IMPORT_RESUME_AFTER (the broker was down when it was uploaded, a
    worker died, a task was lost). Each is marked as asked for, so it is
    asked again only a minute later. Returns how many."""
    now = now or timezone.now()
    stale = list(
        ExclusionImport.objects.filter(
            status=ImportStatus.PENDING, updated_at__lt=now - IMPORT_RESUME_AFTER
        ).values_list("pk", flat=True)[:20]
    )
    ExclusionImport.objects.filter(pk__in=stale).update(updated_at=now)
    for import_id in stale:
        _import_ask(import_id)
    return len(stale)


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
