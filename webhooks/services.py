"""Webhooks: what the customer configures, and delivering every event at
least once. The one door other apps use is `event_emit`."""

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from types import SimpleNamespace

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from plugmessage.broker import broker_ask, task_after_commit
from plugmessage.locks import lease_free, lock_one, lock_rows
from webhooks import sender, zapi
from webhooks.models import (
    DeliveryStatus,
    EventKind,
    PayloadFormat,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSettings,
    secret_generate,
)

logger = logging.getLogger(__name__)

# The Standard Webhooks schedule: the wait before attempt 1, 2, ... 10.
RETRY_SCHEDULE = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
]
JITTER = 0.1
DISABLE_AFTER = timedelta(days=5)
SECRET_OVERLAP = timedelta(hours=24)
DRAIN_TASK = "webhooks.tasks.webhook_deliveries_drain_task"
DRAIN_FLAG = "webhooks:drain-queued"
DISABLED_EMAIL_TASK = "webhooks.tasks.webhook_endpoint_disabled_email_task"


def _drain_soon() -> None:
    """Queue a drain of due deliveries after commit, unless one is already
    queued and not yet started: under load, one task posts many deliveries
    instead of one task each. The flag expires, and the beat sweeper queues
    drains too, so a lost task (or a broker that is down: robust, the change
    stays committed) only delays deliveries."""
    transaction.on_commit(_drain_request, robust=True)


def _drain_request() -> None:
    broker_ask("webhook deliveries", _drain_ask)


def _drain_ask() -> None:
    if cache.add(DRAIN_FLAG, True, timeout=settings.WEBHOOKS_LEASE_SECONDS):
        # By name: tasks import services, so services must not import tasks.
        current_app.send_task(DRAIN_TASK, args=[])


FetchFailed = sender.FetchFailed


def url_fetch(url: str, *, max_bytes: int) -> sender.Fetched:
    """Fetch what a customer's URL points to (media to send) through the same
    guard as webhook deliveries: checked and pinned addresses, no redirects,
    a size cap and a deadline. Raises FetchFailed with a Portuguese reason."""
    return sender.fetch(url, max_bytes=max_bytes)


def webhook_settings_get(*, instance_id) -> WebhookSettings:
    """The instance's signing secret, created on first use."""
    settings_row, _created = WebhookSettings.objects.get_or_create(
        instance_id=instance_id
    )
    return settings_row


def event_emit(*, instance, kind: str, data: dict) -> WebhookEvent | None:
    """Record that `kind` happened on `instance` and queue a delivery to its
    endpoint for that kind, if one is active.

    The body is built now, in the format the instance chose in its Webhooks
    tab: PlugMessage's envelope, or Z-API's callback (webhooks/zapi.py; in
    that format a failed message.status is a DeliveryCallback and goes to the
    message.sent URL). With "notify sent by me" on, a message.sent is also
    announced as a message.received with from_me true (Z-API's
    notifySentByMe), when a message.received URL is active.

    Call it inside the transaction of the change it announces: the events and
    their deliveries commit or roll back with it, and the delivery task is
    only enqueued after commit. Returns the first event stored, or None when
    no endpoint listens (nothing is stored then)."""
    stored = events_emit(instance=instance, events=[(kind, data)])
    return stored[0] if stored else None


@transaction.atomic
def events_emit(*, instance, events: list[tuple[str, dict]]) -> list[WebhookEvent]:
    """event_emit for many events of one instance, in the order given: the
    same bodies and deliveries, from one read of the instance's endpoints and
    settings and one insert of the events and one of their deliveries (the
    sender and the receipts announce a batch of messages at once). Returns
    the events stored."""
    listening = set()
    for kind, _data in events:
        listening |= {kind, *_ALSO_LISTENING.get(kind, ())}
    endpoints = {
        endpoint.kind: endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            instance=instance, kind__in=listening, enabled=True
        )
        .exclude(url="")
        .filter(disabled_at__isnull=True)
    }
    if not endpoints:
        return []
    settings_row = WebhookSettings.objects.filter(instance_id=instance.pk).first()
    payload_format = (
        settings_row.payload_format if settings_row else PayloadFormat.PLUGMESSAGE
    )
    notify_sent_by_me = bool(settings_row and settings_row.notify_sent_by_me)
    stored = []  # (event, endpoint)
    for kind, data in events:
        announcements = [
            (
                zapi.kind_for(kind, data)
                if payload_format == PayloadFormat.ZAPI
                else kind,
                kind,
                data,
            )
        ]
        if kind == EventKind.MESSAGE_SENT and notify_sent_by_me:
            announcements.append(
                (
                    EventKind.MESSAGE_RECEIVED,
                    EventKind.MESSAGE_RECEIVED,
                    sent_as_received(instance=instance, data=data),
                )
            )
        for target, announced_kind, announced in announcements:
            endpoint = endpoints.get(target)
            if endpoint is None:
                continue
            event = WebhookEvent(
                instance=instance,
                kind=target,
                payload=payload_build(
                    instance=instance,
                    kind=announced_kind,
                    data=announced,
                    payload_format=payload_format,
                ),
            )
            stored.append((event, endpoint))
    if not stored:
        return []
    # created_at is set one by one, so it keeps the order given; the drain
    # posts by (next attempt, event's creation, delivery's id).
    WebhookEvent.objects.bulk_create([event for event, _endpoint in stored])
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event=event, endpoint=endpoint, next_attempt_at=event.created_at
            )
            for event, endpoint in stored
        ]
    )
    _drain_soon()
    return [event for event, _endpoint in stored]


# The other URLs an event may be announced on: a message sent by the
# instance as a received one (notify sent by me); a failed send as Z-API's
# DeliveryCallback, on the message.sent URL.
_ALSO_LISTENING = {
    EventKind.MESSAGE_SENT: (EventKind.MESSAGE_RECEIVED,),
    EventKind.MESSAGE_STATUS: (EventKind.MESSAGE_SENT,),
}


def payload_build(
    *, instance, kind: str, data: dict, payload_format: str, now=None
) -> dict:
    """The whole body of an event of `kind`, in `payload_format`."""
    if payload_format == PayloadFormat.ZAPI:
        return zapi.payload(instance=instance, kind=kind, data=data, now=now)
    return _payload(instance, kind, data, now=now)


def _payload(instance, kind: str, data: dict, now=None) -> dict:
    return {
        "type": kind,
        "timestamp": (now or timezone.now()).isoformat(),
        "instance_id": str(instance.pk),
        "data": data,
    }


def sent_as_received(*, instance, data: dict, now=None) -> dict:
    """A message.sent's `data` told as a message.received (from_me true), in
    the terms of the received ones: `message_id` is WhatsApp's id, `from` the
    instance's number and `to` the contact; its media link, when it has one,
    is the sent message's."""
    content = dict(data.get("content") or {})
    kind = data.get("kind") or "text"
    text = data.get("text") or ""
    reply_to = data.get("reply_to") or ""
    if kind in ("image", "video", "document") and text:
        content.setdefault("caption", text)
    if kind == "location" and "title" in content:
        content.setdefault("name", content.pop("title"))
    if kind == "contact" and "vcard" not in content:
        content["vcard"] = _vcard(content.get("name", ""), content.get("phone", ""))
    if kind == "reaction":
        content = {
            "emoji": content.get("emoji", ""),
            "reaction_to": reply_to,
            "reaction_to_from_me": False,
        }
        reply_to = ""
    received = {
        "message_id": data.get("whatsapp_message_id") or data.get("message_id", ""),
        "from": instance.phone_number or "",
        "to": data.get("to", ""),
        "text": text,
        "kind": kind,
        "from_me": True,
        "sender_name": "",
        "timestamp": (now or timezone.now()).isoformat(),
        "content": content,
    }
    if reply_to:
        received["reply_to"] = reply_to
    if data.get("media"):
        received["media"] = dict(data["media"])
    return received


def _vcard(name: str, phone: str) -> str:
    number = "".join(c for c in phone if c.isdigit())
    return (
        "BEGIN:VCARD\nVERSION:3.0\n"
        f"FN:{name}\nTEL;type=CELL;waid={number}:+{number}\nEND:VCARD"
    )


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def _signed_headers(
    event: WebhookEvent, body: str, settings_row: WebhookSettings
) -> dict:
    now = timezone.now()
    signatures = [
        _signer(secret).sign(event.id, now, body)
        for secret in settings_row.signing_secrets(now)
    ]
    return {
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _body(event: WebhookEvent) -> str:
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))


def _next_attempt(
    attempts: int, now: datetime, retry_after: int | None
) -> datetime | None:
    if attempts >= len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[attempts] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, 86400)))
    return now + wait


def _endpoint_disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Disable once, and email the owner once: later failures of the same
    batch find it disabled already and change nothing."""
    changed = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, disabled_at__isnull=True
    ).update(disabled_at=now, disabled_reason=reason[:300])
    if changed:
        task_after_commit("endpoint-disabled email", DISABLED_EMAIL_TASK, endpoint.pk)


def webhook_delivery_attempt(*, delivery_id: int) -> list[WebhookDelivery]:
    """Make the next attempt of one due delivery, if no other worker holds it.
    Returns it in a list, or an empty list when there was nothing to do."""
    now = timezone.now()
    return _attempt_batch(_claim(now, delivery_id=delivery_id), now)


def webhook_deliveries_drain(*, max_batches: int = 20) -> int:
    """Post every due delivery nobody holds, in batches claimed with a lease
    (SKIP LOCKED on PostgreSQL, so several drains share the work), each batch
    posted in parallel and recorded in one transaction.

    Safe to run several at once and to kill: a killed drain leaves leases
    that expire, and the deliveries are handed out again — receivers may see
    one twice, never zero times. Returns how many were attempted; queues a
    follow-up drain if it stopped with work left."""
    cache.delete(DRAIN_FLAG)  # new events may queue the next drain from now on
    attempted = 0
    for _batch in range(max_batches):
        now = timezone.now()
        claimed = _claim(now)
        if len(claimed) == BATCH:
            _drain_request()  # more may be due: let another worker help
        batch = _attempt_batch(claimed, now)
        if not batch:
            return attempted
        attempted += len(batch)
    _drain_request()
    return attempted


def _attempt_batch(
    deliveries: list[WebhookDelivery], now: datetime
) -> list[WebhookDelivery]:
    if not deliveries:
        return []
    inactive = [d.pk for d in deliveries if not d.endpoint.active]
    if inactive:
        WebhookDelivery.objects.filter(pk__in=inactive).update(
            status=DeliveryStatus.FAILED,
            finished_at=now,
            next_attempt_at=None,
            locked_until=None,
        )
    active = [d for d in deliveries if d.endpoint.active]
    secrets = _settings_by_instance({d.endpoint.instance_id for d in active})
    jobs = [(d, secrets[d.endpoint.instance_id]) for d in active]
    keeper = _LeaseKeeper(active)
    keeper.start()
    try:
        outcomes = _post_all(jobs)
    finally:
        keeper.finish()
    _attempts_record(outcomes)
    return deliveries


def _post_all(jobs: list[tuple]) -> list[tuple]:
    """Post a batch from POST_THREADS threads, giving up on any post that
    runs past its total deadline (httpx bounds each read, not the whole
    exchange): it is recorded as a timeout and its thread is left to end on
    its own; a retry makes the delivery at least once, as always."""
    if not jobs:
        return []
    attempts = [
        WebhookAttempt(delivery=d, url=d.endpoint.url, started_at=timezone.now())
        for d, _s in jobs
    ]
    started: dict[int, float] = {}
    outcomes: list[tuple | None] = [None] * len(jobs)
    pool = ThreadPoolExecutor(max_workers=min(POST_THREADS, len(jobs)))
    futures = {
        pool.submit(_post_one, job, attempts[i], started, i): i
        for i, job in enumerate(jobs)
    }
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.25)
            for future in done:
                outcomes[futures[future]] = future.result()
            limit = time.monotonic() - sender.TOTAL_SECONDS - 1
            for future in list(pending):
                i = futures[future]
                if started.get(i, limit + 1) < limit:
                    pending.discard(future)
                    timeout = sender.PostResult(
                        None,
                        int(sender.TOTAL_SECONDS * 1000),
                        error=_("Tempo esgotado"),
                    )
                    outcomes[i] = (jobs[i][0], attempts[i], timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes


def _post_one(job: tuple, attempt: WebhookAttempt, started: dict, index: int) -> tuple:
    """Sign (just before sending, so the timestamp is fresh) and post one
    delivery. Whatever goes wrong becomes a failed attempt: one bad delivery
    must not keep the rest of its batch from being recorded."""
    delivery, settings_row = job
    started[index] = time.monotonic()
    attempt.started_at = timezone.now()
    try:
        body = _body(delivery.event)
        headers = _signed_headers(delivery.event, body, settings_row)
        attempt.request_headers = {**headers, "content-type": "application/json"}
        result = sender.post_unbounded(delivery.endpoint.url, body.encode(), headers)
    except Exception as error:  # noqa: BLE001 - recorded on the attempt
        logger.exception("webhook delivery %s failed before an answer", delivery.pk)
        result = sender.PostResult(
            None,
            0,
            error=_("Erro interno da PlugMessage ao enviar."),
            detail=sender.technical_detail(error),
        )
    return delivery, attempt, result


POST_THREADS = 2


BATCH = 200


class _LeaseKeeper(threading.Thread):
    """Renews the lease of a batch while its posts run, so a slow receiver
    never lets another runner take deliveries this one is still posting;
    if this runner dies, renewal stops and the lease runs out as usual."""

    def __init__(self, deliveries: list[WebhookDelivery]):
        super().__init__(daemon=True)
        self.deliveries = deliveries
        self.lease = (
            deliveries[0].lease
            if deliveries and hasattr(deliveries[0], "lease")
            else None
        )
        self.stopping = threading.Event()

    def run(self) -> None:
        if self.lease is None:
            return
        seconds = settings.WEBHOOKS_LEASE_SECONDS
        try:
            while not self.stopping.wait(seconds / 3):
                renewed = timezone.now() + timedelta(seconds=seconds)
                renewed_rows = WebhookDelivery.objects.filter(
                    pk__in=[d.pk for d in self.deliveries], locked_until=self.lease
                ).update(locked_until=renewed)
                if renewed_rows:  # rows another runner took keep its lease
                    self.lease = renewed
        finally:
            connection.close()  # this thread's own connection

    def finish(self) -> None:
        self.stopping.set()
        self.join()
        for delivery in self.deliveries:
            if self.lease is not None:
                delivery.lease = self.lease


def _claim(now: datetime, *, delivery_id: int | None = None) -> list[WebhookDelivery]:
    """Lease due deliveries nobody holds: the one given, or a batch of any."""
    lease = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    due = WebhookDelivery.objects.filter(
        lease_free(now), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    if delivery_id is not None:
        due = due.filter(pk=delivery_id)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = lock_rows(
                due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH],
                skip_locked=True,
            )
            WebhookDelivery.objects.filter(pk__in=ids).update(locked_until=lease)
    else:
        # No SKIP LOCKED: lease one delivery at a time with a conditional UPDATE.
        first = due.order_by("next_attempt_at").values_list("pk", flat=True).first()
        ids = (
            [first] if first and due.filter(pk=first).update(locked_until=lease) else []
        )
    # Posted in the order the events happened (a message's sent, delivered,
    # read), not in whatever order the database returns the batch.
    claimed = list(
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(pk__in=ids)
        .order_by("next_attempt_at", "event__created_at", "pk")
    )
    for delivery in claimed:
        delivery.lease = lease
    return claimed


def _settings_by_instance(instance_ids: set) -> dict:
    rows = {
        s.instance_id: s
        for s in WebhookSettings.objects.filter(instance_id__in=instance_ids)
    }
    for instance_id in instance_ids - rows.keys():
        rows[instance_id] = webhook_settings_get(instance_id=instance_id)
    return rows


def _prepare(delivery: WebhookDelivery, settings_row: WebhookSettings):
    """The unsaved attempt, body and signed headers of one post."""
    body = _body(delivery.event)
    headers = _signed_headers(delivery.event, body, settings_row)
    attempt = WebhookAttempt(
        delivery=delivery,
        url=delivery.endpoint.url,
        request_headers={**headers, "content-type": "application/json"},
        started_at=timezone.now(),
    )
    return delivery, attempt, body.encode(), headers


def _attempt_fill(attempt: WebhookAttempt, result: sender.PostResult) -> None:
    attempt.duration_ms = result.duration_ms
    attempt.status_code = result.status_code
    attempt.error = result.error[:300]
    attempt.error_detail = result.detail
    attempt.response_body = result.body


@transaction.atomic
def _attempts_record(outcomes: list[tuple]) -> None:
    """Save the attempts and move each delivery on: done, retry later (the
    Standard Webhooks schedule, Retry-After), or failed; disable an endpoint
    on 410 or after five days of failures."""
    now = timezone.now()
    attempts, succeeded, failed = [], [], []
    fields = [
        "attempt_count",
        "locked_until",
        "status",
        "finished_at",
        "next_attempt_at",
    ]
    for delivery, attempt, result in outcomes:
        _attempt_fill(attempt, result)
        attempts.append(attempt)
        if result.succeeded:
            succeeded.append(delivery)
            continue
        failed.append(delivery)
        delivery.attempt_count += 1
        delivery.locked_until = None
        endpoint = delivery.endpoint
        if endpoint.failing_since is None:
            WebhookEndpoint.objects.filter(
                pk=endpoint.pk, failing_since__isnull=True
            ).update(failing_since=now)
            endpoint.failing_since = now
        if result.status_code == 410:
            _endpoint_disable(
                endpoint,
                _("O endereço respondeu 410 (Gone): o recebedor pediu para parar."),
                now,
            )
            delivery.next_attempt_at = None
        elif now - endpoint.failing_since >= DISABLE_AFTER:
            _endpoint_disable(
                endpoint, _("Todas as entregas falharam durante 5 dias seguidos."), now
            )
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = _next_attempt(
                delivery.attempt_count, now, result.retry_after
            )
        if delivery.next_attempt_at is None:
            delivery.status = DeliveryStatus.FAILED
            delivery.finished_at = now
    WebhookAttempt.objects.bulk_create(attempts)
    if succeeded:
        # One UPDATE for every success: the common case stays cheap. Only rows
        # this runner still holds are written: if its lease ran out and
        # another runner took a delivery over, that runner's word counts.
        held = Q(pk__in=[d.pk for d in succeeded])
        if hasattr(succeeded[0], "lease"):
            held &= Q(locked_until=succeeded[0].lease)
        WebhookDelivery.objects.filter(held).update(
            attempt_count=F("attempt_count") + 1,
            status=DeliveryStatus.SUCCEEDED,
            finished_at=now,
            next_attempt_at=None,
            locked_until=None,
        )
        WebhookEndpoint.objects.filter(
            pk__in={d.endpoint_id for d in succeeded}, failing_since__isnull=False
        ).update(failing_since=None)
    for delivery in failed:  # rare: one guarded UPDATE each
        still_held = WebhookDelivery.objects.filter(pk=delivery.pk)
        if hasattr(delivery, "lease"):
            still_held = still_held.filter(locked_until=delivery.lease)
        still_held.update(**{field: getattr(delivery, field) for field in fields})


def webhook_deliveries_sweep() -> int:
    """Beat, every few seconds: if any delivery is due and nobody holds it
    (a first attempt whose task was lost, a retry whose time has come, the
    deliveries of a killed worker once their lease expired), queue a drain.
    Returns how many are due."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        lease_free(now),
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
    ).count()
    if due:
        cache.delete(DRAIN_FLAG)
        _drain_request()
    return due


# What the customer does in the "Webhooks" tab.


@transaction.atomic
def webhook_endpoints_save(
    *,
    instance,
    values: dict[str, tuple[str, bool]],
    payload_format: str | None = None,
    notify_sent_by_me: bool | None = None,
) -> None:
    """Save the URL and switch of each event kind given, and the payload
    format and "notify sent by me" when given (None leaves them as they are).
    A changed URL clears a disabled state: the customer has fixed what was
    failing. The URLs are saved as given: check them first (the tab's form,
    or `webhook_urls_set`)."""
    for kind, (url, enabled) in values.items():
        endpoint, _created = WebhookEndpoint.objects.get_or_create(
            instance=instance, kind=kind
        )
        url = url.strip()
        if url != endpoint.url:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        endpoint.url = url
        endpoint.enabled = enabled
        endpoint.save()
    changes = {
        name: value
        for name, value in (
            ("payload_format", payload_format),
            ("notify_sent_by_me", notify_sent_by_me),
        )
        if value is not None
    }
    if changes:
        row = webhook_settings_get(instance_id=instance.pk)
        WebhookSettings.objects.filter(pk=row.pk).update(**changes)


class WebhookURLRefused(ValueError):
    """A webhook URL the guard refuses; the message says why, in Portuguese."""


def webhook_url_check(url: str) -> str:
    """The URL, stripped, if webhooks may be sent to it (empty is allowed: it
    clears). Raises WebhookURLRefused as the tab's form would."""
    url = (url or "").strip()
    if not url:
        return url
    if len(url) > URL_MAX_LENGTH:
        raise WebhookURLRefused(
            _("A URL passa de %(max)d caracteres.") % {"max": URL_MAX_LENGTH}
        )
    try:
        sender.url_check(url)
    except sender.UnsafeURL as error:
        raise WebhookURLRefused(str(error)) from error
    return url


URL_MAX_LENGTH = 2000


def webhook_urls_set(
    *, instance, kinds, url: str, notify_sent_by_me: bool | None = None
) -> None:
    """Point every event kind of `kinds` at `url` and turn them on (an empty
    url clears them), and set "notify sent by me" when given: the API's
    update-webhook-* routes. Checked by the same guard as the tab
    (WebhookURLRefused, nothing saved); the payload format is not touched:
    it is chosen in the tab. Atomic."""
    url = webhook_url_check(url)
    webhook_endpoints_save(
        instance=instance,
        values={kind: (url, True) for kind in kinds},
        notify_sent_by_me=notify_sent_by_me,
    )


def webhook_secret_rotate(*, instance) -> WebhookSettings:
    """Issue a new signing secret. For 24 h both secrets sign every delivery
    (the header holds both signatures), so receivers keep working while they
    switch."""
    with transaction.atomic():
        row = lock_one(
            WebhookSettings, pk=webhook_settings_get(instance_id=instance.pk).pk
        )
        row.previous_secret = row.secret
        row.previous_expires_at = timezone.now() + SECRET_OVERLAP
        row.secret = secret_generate()
        row.save()
    return row


TEST_TASK = "webhooks.tasks.webhook_test_send_task"
# A test not sent this long after it was asked for (its task lost: a broker
# outage, a killed worker) is asked for again by beat's sweep...
TEST_RESUME_AFTER = timedelta(seconds=20)
# ...and after this long it is given up: nobody is waiting for it any more.
TEST_GIVE_UP_AFTER = timedelta(minutes=5)


def _test_ask(delivery_id: int) -> None:
    broker_ask(
        "webhook tests", partial(current_app.send_task, TEST_TASK, args=[delivery_id])
    )


def webhook_test_request(*, instance, kind: str, queue: bool = True) -> WebhookDelivery:
    """Record a sample event of `kind` in the instance's payload format and
    its test delivery (for "Enviar teste"), and, with `queue`, ask after
    commit for the task that posts it (webhook_test_send). A broker that is
    down raises nothing: beat's sweep asks again (webhook_tests_resume).
    Logged in "Entregas" as a test; never retried."""
    endpoint = WebhookEndpoint.objects.get(instance=instance, kind=kind)
    settings_row = webhook_settings_get(instance_id=instance.pk)
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            instance=instance,
            kind=kind,
            payload=payload_build(
                instance=instance,
                kind=kind,
                data=sample_data(kind),
                payload_format=settings_row.payload_format,
            ),
        )
        # No next_attempt_at: the drain never takes a test, its task does.
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, is_test=True
        )
        if queue:
            transaction.on_commit(partial(_test_ask, delivery.pk), robust=True)
    return delivery


def webhook_test_send(*, delivery_id: int) -> WebhookAttempt | None:
    """Post a test delivery once, through the same guard and signing as
    every delivery, and record the attempt. Claimed under its row lock with
    a lease first, and posted after that commits (no lock held during the
    post): two tasks of one test, or a task and a sweep, post it once.
    Returns the attempt, or None for a test already sent, being sent, given
    up or deleted."""
    now = timezone.now()
    with transaction.atomic():
        try:
            delivery = lock_one(WebhookDelivery, pk=delivery_id)
        except WebhookDelivery.DoesNotExist:
            return None
        if (
            not delivery.is_test
            or delivery.status != DeliveryStatus.PENDING
            or (delivery.locked_until and delivery.locked_until > now)
        ):
            return None
        delivery.locked_until = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
        delivery.save(update_fields=["locked_until"])
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(
        pk=delivery_id
    )
    settings_row = webhook_settings_get(instance_id=delivery.event.instance_id)
    _delivery, attempt, body, headers = _prepare(delivery, settings_row)
    result = sender.post(delivery.endpoint.url, body, headers)
    _attempt_fill(attempt, result)
    with transaction.atomic():
        attempt.save()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempt_count=1,
            status=DeliveryStatus.SUCCEEDED
            if result.succeeded
            else DeliveryStatus.FAILED,
            finished_at=timezone.now(),
            locked_until=None,
        )
    return attempt


def webhook_tests_resume(*, now: datetime | None = None) -> int:
    """Beat: ask again for the tests not sent TEST_RESUME_AFTER after they
    were asked for and that nobody holds; give up (failed, with no attempt)
    those older than TEST_GIVE_UP_AFTER. Returns how many were asked for."""
    now = now or timezone.now()
    unsent = WebhookDelivery.objects.filter(
        lease_free(now),
        status=DeliveryStatus.PENDING,
        next_attempt_at__isnull=True,
        is_test=True,
    )
    unsent.filter(created_at__lt=now - TEST_GIVE_UP_AFTER).update(
        status=DeliveryStatus.FAILED, finished_at=now, locked_until=None
    )
    ids = list(
        unsent.filter(created_at__lt=now - TEST_RESUME_AFTER).values_list(
            "pk", flat=True
        )[:20]
    )
    for delivery_id in ids:
        _test_ask(delivery_id)
    return len(ids)


def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again as a new delivery, with the same webhook-id."""
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            endpoint_id=delivery.endpoint_id,
            next_attempt_at=timezone.now(),
        )
        _drain_soon()
    return again


def webhook_endpoint_reactivate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=None, disabled_reason="", failing_since=None
    )
    endpoint.refresh_from_db()
    return endpoint


def webhook_failures_replay(*, instance, since: datetime) -> int:
    """Resend every failed delivery of `instance` created since `since`
    (tests excluded), once: a delivery already followed by a newer one of the
    same event is skipped, and so are endpoints still disabled. Returns how
    many were queued."""
    failed = (
        WebhookDelivery.objects.filter(
            endpoint__instance=instance,
            status=DeliveryStatus.FAILED,
            is_test=False,
            created_at__gte=since,
            endpoint__disabled_at__isnull=True,
        )
        .exclude(event__deliveries__created_at__gt=F("created_at"))
        .distinct()
    )
    count = 0
    with transaction.atomic():
        for delivery in failed:
            webhook_delivery_resend(delivery=delivery)
            count += 1
    return count


EXAMPLE_AT = datetime(2026, 11, 26, 14, 5, 9, 123456, tzinfo=UTC)
EXAMPLE_INSTANCE = SimpleNamespace(
    pk="0b7c5e2a-4d1f-4c3e-9a8b-7f6e5d4c3b2a", phone_number="+5511912345678"
)


def example_payload(kind: str, variant: str = "") -> dict:
    """A whole example body of `kind` in PlugMessage's format, as the docs
    show it."""
    return payload_build(
        instance=EXAMPLE_INSTANCE,
        kind=kind,
        data=sample_data(kind, variant),
        payload_format=PayloadFormat.PLUGMESSAGE,
        now=EXAMPLE_AT,
    )


def zapi_examples() -> list[tuple[str, str, dict]]:
    """(anchor, title, body) of one example of each Z-API callback, built by
    the same code as the real ones, for the docs."""
    kinds = [
        ("text", _("texto")),
        ("image", _("imagem")),
        ("audio", _("áudio")),
        ("video", _("vídeo")),
        ("document", _("documento")),
        ("location", _("localização")),
        ("contact", _("contato")),
        ("reaction", _("reação")),
        ("sticker", _("figurinha")),
    ]
    cases = [
        (
            f"zapi-received-{kind}",
            _("Mensagem recebida: %(kind)s") % {"kind": label},
            EventKind.MESSAGE_RECEIVED,
            sample_data(EventKind.MESSAGE_RECEIVED, kind),
        )
        for kind, label in kinds
    ]
    cases += [
        (
            "zapi-received-from-me",
            _("Mensagem enviada pela instância (avisar as enviadas por mim)"),
            EventKind.MESSAGE_RECEIVED,
            sent_as_received(
                instance=EXAMPLE_INSTANCE,
                data=sample_data(EventKind.MESSAGE_SENT),
                now=EXAMPLE_AT,
            ),
        ),
        (
            "zapi-delivery",
            _("Mensagem enviada"),
            EventKind.MESSAGE_SENT,
            sample_data(EventKind.MESSAGE_SENT),
        ),
        (
            "zapi-delivery-error",
            _("Falha no envio"),
            EventKind.MESSAGE_STATUS,
            sample_data(EventKind.MESSAGE_STATUS, "failed"),
        ),
        (
            "zapi-message-status",
            _("Status da mensagem"),
            EventKind.MESSAGE_STATUS,
            sample_data(EventKind.MESSAGE_STATUS),
        ),
    ]
    cases += [
        (
            f"zapi-{kind.value.replace('.', '-')}",
            kind.label,
            kind,
            sample_data(kind),
        )
        for kind in (
            EventKind.CONNECTED,
            EventKind.DISCONNECTED,
            EventKind.CHAT_PRESENCE,
        )
    ]
    return [
        (
            anchor,
            str(title),
            zapi.payload(
                instance=EXAMPLE_INSTANCE, kind=kind, data=data, now=EXAMPLE_AT
            ),
        )
        for anchor, title, kind, data in cases
    ]


_MEDIA_BASE = "https://app.plugmessage.com.br/midia/7Kq2xYw9/"
_RECEIVED_KINDS = {
    "text": {"text": "Olá! Quero saber o horário de atendimento.", "content": {}},
    "image": {
        "text": "Esta é a peça que eu quero.",
        "media": {
            "url": _MEDIA_BASE + "foto.jpg",
            "mime_type": "image/jpeg",
            "file_name": "foto.jpg",
            "size": 48213,
        },
        "content": {
            "caption": "Esta é a peça que eu quero.",
            "width": 1080,
            "height": 1350,
        },
    },
    "audio": {
        "media": {
            "url": _MEDIA_BASE + "audio.ogg",
            "mime_type": "audio/ogg; codecs=opus",
            "file_name": "audio.ogg",
            "size": 18345,
        },
        "content": {"ptt": True, "seconds": 7},
    },
    "video": {
        "text": "Olha como ficou.",
        "media": {
            "url": _MEDIA_BASE + "video.mp4",
            "mime_type": "video/mp4",
            "file_name": "video.mp4",
            "size": 1843201,
        },
        "content": {"caption": "Olha como ficou.", "seconds": 12},
    },
    "document": {
        "media": {
            "url": _MEDIA_BASE + "orcamento.pdf",
            "mime_type": "application/pdf",
            "file_name": "orcamento.pdf",
            "size": 90412,
        },
        "content": {
            "file_name": "orcamento.pdf",
            "title": "Orçamento",
            "page_count": 2,
        },
    },
    "location": {
        "content": {
            "latitude": -23.561414,
            "longitude": -46.655881,
            "name": "Loja Paulista",
            "address": "Av. Paulista, 1000 - Bela Vista, São Paulo - SP",
            "url": "",
        }
    },
    "contact": {
        "content": {
            "name": "João Lima",
            "phone": "+5511976543210",
            "vcard": (
                "BEGIN:VCARD\nVERSION:3.0\nFN:João Lima\n"
                "TEL;type=CELL;waid=5511976543210:+55 11 97654-3210\nEND:VCARD"
            ),
        }
    },
    "reaction": {
        "content": {
            "emoji": "👍",
            "reaction_to": "3EB0A1B2C3D4E5F6A7B8",
            "reaction_to_from_me": True,
        }
    },
    "sticker": {
        "media": {
            "url": _MEDIA_BASE + "figurinha.webp",
            "mime_type": "image/webp",
            "file_name": "figurinha.webp",
            "size": 20480,
        },
        "content": {},
    },
}
_SENT = {
    "message_id": "5f1d0c8e-6a3b-4f7e-9c2d-1b8a7e6f5d4c",
    "whatsapp_message_id": "3EB0A1B2C3D4E5F6A7B8",
    "zaap_id": "5F1D0C8E6A3B4F7E9C2D1B8A7E6F5D4C",
    "to": "+5511987654321",
    "kind": "text",
}


def sample_data(kind: str, variant: str = "") -> dict:
    """An example `data` of each kind, in the shapes the real events carry:
    for "Enviar teste" and the docs (both formats are built from it). For
    message.received `variant` is the message's kind (text by default); for
    message.status it is the status (read by default)."""
    if kind == EventKind.MESSAGE_RECEIVED:
        variant = variant or "text"
        return {
            "message_id": "3EB0C431D5A1B2C3D4E5",
            "from": "+5511987654321",
            "text": "",
            "kind": variant,
            "from_me": False,
            "sender_name": "Maria Souza",
            "timestamp": "2026-11-26T14:05:08+00:00",
            **_RECEIVED_KINDS[variant],
        }
    if kind == EventKind.MESSAGE_SENT:
        return {**_SENT, "text": "Nosso horário é das 8h às 18h."}
    if kind == EventKind.MESSAGE_STATUS:
        status = variant or "read"
        data = {**_SENT, "status": status}
        if status == "failed":
            data["error"] = "Este número não tem WhatsApp."
        return data
    return {
        EventKind.CONNECTED: {"phone": "+5511912345678", "state": "connected"},
        EventKind.DISCONNECTED: {
            "phone": "+5511912345678",
            "state": "disconnected",
            "reason": "Desconectada pelo cliente",
        },
        EventKind.CHAT_PRESENCE: {"chat": "+5511987654321", "presence": "composing"},
    }[kind]
