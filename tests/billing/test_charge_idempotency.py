"""A charge row exists before the payment provider is asked, with a reference
the provider keeps: a crash after the provider answered never leads to a
second payable boleto, and no lock is held while the provider answers."""

import json
import threading
from datetime import date

import httpx
import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from billing import services
from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    SimulatedProviderCharge,
)
from billing.providers.base import ProviderUnavailable
from billing.providers.simulated import SimulatedProvider
from plugmessage.locks import LockTimeout, lock_one
from tests.billing.test_asaas import fixture
from tests.billing.test_charges_and_payments import invoice_for
from tests.factories import UserFactory
from tests.helpers import at_the_same_moment

ON_POSTGRESQL = "locks and concurrency are tested on PostgreSQL (DATABASE_URL)"


class Crash(Exception):
    """The process died after the provider answered, before the answer was
    recorded."""


def _crash_after_the_provider_answered(monkeypatch):
    def crash(intent, issued, on_recorded):
        raise Crash

    monkeypatch.setattr(services, "_charge_issued_record", crash)


def _live_at_the_simulated_provider() -> int:
    return SimulatedProviderCharge.objects.filter(cancelled_at__isnull=True).count()


@pytest.mark.django_db
def test_a_crash_after_the_provider_answered_never_makes_a_second_boleto(
    owner, monkeypatch
):
    invoice = invoice_for(owner)
    with monkeypatch.context() as patched:
        _crash_after_the_provider_answered(patched)
        with pytest.raises(Crash):
            services.charge_issue(invoice=invoice)
    pending = Charge.objects.get(invoice=invoice)
    assert pending.status == ChargeStatus.PENDING
    assert pending.reference and not pending.provider_ref

    charge = services.charge_issue(invoice=invoice)

    made = SimulatedProviderCharge.objects.get()  # the provider made one only
    assert (charge.pk, charge.status) == (pending.pk, ChargeStatus.ACTIVE)
    assert charge.provider_ref == made.provider_ref
    assert charge.linha_digitavel == made.linha_digitavel
    assert made.reference == charge.reference
    assert services.charge_issue(invoice=invoice) == charge


@pytest.mark.django_db
def test_the_hourly_run_finishes_a_charge_left_pending_and_spares_a_fresh_one(
    owner, monkeypatch, queued
):
    invoice = invoice_for(owner)
    with monkeypatch.context() as patched:
        _crash_after_the_provider_answered(patched)
        with pytest.raises(Crash):
            services.charge_issue(invoice=invoice)
    # Another attempt may still be waiting for the provider's answer.
    assert services.charges_issue_pending() == 0
    later = timezone.now() + services.PENDING_CHARGE_GRACE
    with time_machine.travel(later, tick=False):
        assert services.charges_issue_pending() == 1
    assert _live_at_the_simulated_provider() == 1
    assert Charge.objects.get(invoice=invoice).status == ChargeStatus.ACTIVE


@pytest.mark.django_db
def test_a_provider_that_timed_out_is_asked_again_under_the_same_reference(
    owner, monkeypatch
):
    invoice = invoice_for(owner)
    real = SimulatedProvider.charge_create
    references = []

    def timing_out(self, request):
        references.append(request.reference)
        raise ProviderUnavailable("tempo esgotado")

    monkeypatch.setattr(SimulatedProvider, "charge_create", timing_out)
    with pytest.raises(ProviderUnavailable):
        services.charge_issue(invoice=invoice)
    assert Charge.objects.get().status == ChargeStatus.PENDING

    def recording(self, request):
        references.append(request.reference)
        return real(self, request)

    monkeypatch.setattr(SimulatedProvider, "charge_create", recording)
    charge = services.charge_issue(invoice=invoice)
    assert charge.status == ChargeStatus.ACTIVE
    assert references == [charge.reference, charge.reference]
    assert _live_at_the_simulated_provider() == 1


@pytest.mark.django_db
def test_the_old_boleto_stays_payable_until_the_2a_via_is_recorded(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    invoice = invoice_for(owner)
    old = services.charge_issue(invoice=invoice)
    with monkeypatch.context() as patched:
        _crash_after_the_provider_answered(patched)
        with pytest.raises(Crash):
            services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))
    old.refresh_from_db()
    assert old.status == ChargeStatus.ACTIVE
    assert _live_at_the_simulated_provider() == 2  # the old, and the new one

    with django_capture_on_commit_callbacks(execute=True):
        new = services.invoice_reissue(invoice=invoice, today=date(2026, 11, 25))

    old.refresh_from_db()
    assert old.status == ChargeStatus.CANCELLED
    assert (new.status, new.is_reissue) == (ChargeStatus.ACTIVE, True)
    assert SimulatedProviderCharge.objects.count() == 2  # no third boleto
    assert _live_at_the_simulated_provider() == 1
    assert SimulatedProviderCharge.objects.get(
        cancelled_at__isnull=True
    ).provider_ref == (new.provider_ref)


@pytest.mark.django_db(transaction=True)
def test_no_lock_is_held_while_the_provider_answers_on_postgresql(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    invoice = invoice_for(UserFactory())
    real = SimulatedProvider.charge_create
    seen = {}

    def look_from_another_connection():
        try:
            with transaction.atomic():
                lock_one(Invoice, pk=invoice.pk, timeout_ms=300)
                seen["pending"] = list(
                    Charge.objects.filter(invoice=invoice).values_list(
                        "status", "reference"
                    )
                )
        except LockTimeout:
            seen["locked"] = True
        finally:
            connection.close()

    def answering(self, request):
        other = threading.Thread(target=look_from_another_connection)
        other.start()
        other.join(timeout=10)
        return real(self, request)

    monkeypatch.setattr(SimulatedProvider, "charge_create", answering)
    charge = services.charge_issue(invoice=invoice)

    assert "locked" not in seen
    assert seen["pending"] == [(ChargeStatus.PENDING, charge.reference)]
    assert charge.status == ChargeStatus.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_two_attempts_at_the_same_moment_leave_one_payable_boleto_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    invoice = invoice_for(UserFactory())
    results, errors = at_the_same_moment(
        [lambda: services.charge_issue(invoice=invoice)] * 3
    )

    assert errors == []
    active = Charge.objects.get(invoice=invoice, status=ChargeStatus.ACTIVE)
    assert {charge.pk for charge in results} == {active.pk}
    assert (
        SimulatedProviderCharge.objects.get(cancelled_at__isnull=True).provider_ref
        == active.provider_ref
    )


# The same with the Asaas adapter (respx: nothing leaves the machine).

API = "https://api-sandbox.asaas.com/v3"


@pytest.fixture
def asaas(settings):
    from billing.providers import _provider

    settings.PAYMENT_PROVIDER = "billing.providers.asaas.AsaasProvider"
    settings.ASAAS_API_URL = API
    settings.ASAAS_API_KEY = "$aact_hmlg_chave-de-teste"
    _provider.cache_clear()
    import respx

    with respx.mock(base_url=API, assert_all_called=False) as mock:
        mock.get("/customers").respond(json=fixture("customers_empty_list"))
        mock.post("/customers").respond(json=fixture("customer_created"))
        mock.get("/payments/pay_080225913252/identificationField").respond(
            json=fixture("identification_field")
        )
        mock.get("/payments/pay_080225913252/pixQrCode").respond(
            json=fixture("pix_qr_code")
        )
        yield mock
    _provider.cache_clear()


def _listed(*payments) -> dict:
    return {**fixture("customers_empty_list"), "data": list(payments)}


@pytest.mark.django_db
def test_asaas_a_crash_after_it_answered_finds_the_payment_by_external_reference(
    owner, asaas, monkeypatch
):
    create = asaas.post("/payments").respond(json=fixture("payment_created"))
    invoice = invoice_for(owner)
    with monkeypatch.context() as patched:
        _crash_after_the_provider_answered(patched)
        with pytest.raises(Crash):
            services.charge_issue(invoice=invoice)
    pending = Charge.objects.get()
    sent = json.loads(create.calls.last.request.content)
    assert sent["externalReference"] == pending.reference
    made = {**fixture("payment_created"), "externalReference": pending.reference}
    deleted = {**made, "id": "pay_apagado", "deleted": True}
    lookup = asaas.get(
        "/payments", params={"externalReference": pending.reference}
    ).respond(json=_listed(deleted, made))

    charge = services.charge_issue(invoice=invoice)

    assert create.call_count == 1  # no second payment at Asaas
    assert lookup.called
    assert (charge.pk, charge.status) == (pending.pk, ChargeStatus.ACTIVE)
    assert charge.provider_ref == "pay_080225913252"
    assert charge.linha_digitavel == "00190000090275928800021932978170187890000005000"


@pytest.mark.django_db
def test_asaas_a_timeout_before_it_answered_creates_once_under_the_same_reference(
    owner, asaas
):
    create = asaas.post("/payments").mock(
        side_effect=[
            httpx.ReadTimeout("sem resposta"),
            httpx.Response(200, json=fixture("payment_created")),
        ]
    )
    asaas.get("/payments").respond(json=_listed())  # it never made the first
    invoice = invoice_for(owner)
    with pytest.raises(ProviderUnavailable):
        services.charge_issue(invoice=invoice)
    reference = Charge.objects.get().reference

    charge = services.charge_issue(invoice=invoice)

    assert charge.status == ChargeStatus.ACTIVE
    assert [
        json.loads(call.request.content)["externalReference"] for call in create.calls
    ] == [reference, reference]


@pytest.mark.django_db(transaction=True)
def test_asaas_is_called_with_no_lock_held_on_postgresql(asaas):
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    invoice = invoice_for(UserFactory())
    seen = {}

    def look(request):
        def other():
            try:
                with transaction.atomic():
                    lock_one(Invoice, pk=invoice.pk, timeout_ms=300)
                    seen["statuses"] = list(
                        Charge.objects.filter(invoice=invoice).values_list(
                            "status", flat=True
                        )
                    )
            except LockTimeout:
                seen["locked"] = True
            finally:
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=10)
        return httpx.Response(200, json=fixture("payment_created"))

    asaas.post("/payments").mock(side_effect=look)
    charge = services.charge_issue(invoice=invoice)
    assert "locked" not in seen
    assert seen["statuses"] == [ChargeStatus.PENDING]
    assert charge.status == ChargeStatus.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_two_hourly_runs_at_the_same_moment_issue_one_charge_on_postgresql(queued):
    if connection.vendor != "postgresql":
        pytest.skip(ON_POSTGRESQL)
    invoice = invoice_for(UserFactory())
    assert not Charge.objects.filter(invoice=invoice).exists()
    queued.clear()

    results, errors = at_the_same_moment([services.charges_issue_pending] * 2)

    assert errors == []
    assert sorted(results) == [0, 1]
    active = Charge.objects.get(invoice=invoice, status=ChargeStatus.ACTIVE)
    assert not Charge.objects.filter(
        invoice=invoice, status=ChargeStatus.PENDING
    ).exists()
    live = SimulatedProviderCharge.objects.get(cancelled_at__isnull=True)
    assert live.provider_ref == active.provider_ref
    emails = [args for name, args in queued if name.endswith("invoice_email_task")]
    assert emails == [["invoice_issued", str(invoice.pk)]]
