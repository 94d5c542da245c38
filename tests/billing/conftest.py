from datetime import date, datetime

import pytest
from django.utils import timezone

from billing import services as billing_services
from billing.models import BillingProfile, Invoice, SubscriptionPeriod
from billing.providers.base import Payer
from instances import services
from instances.engines import engine_get
from instances.models import SimulatedSession
from tests.factories import InstanceFactory

# A payer as the providers receive it: a company (CNPJ).
PAYER = Payer(
    reference="7",
    name="Loja da Ana Ltda",
    document="11222333000181",
    email="financeiro@loja.com.br",
    postal_code="01310100",
    street="Avenida Paulista",
    number="1000",
    complement="",
    district="Bela Vista",
    uf="SP",
    city="São Paulo",
)


def sp(*args) -> datetime:
    """An aware datetime read as São Paulo time."""
    return timezone.make_aware(datetime(*args))


def subscribed(instance, start, end=None) -> SubscriptionPeriod:
    """A subscription period written directly (any start, past ones too)."""
    return SubscriptionPeriod.objects.create(
        account=instance.owner,
        instance=instance,
        instance_uuid=instance.pk,
        instance_name=instance.name,
        started_at=start,
        ended_at=end,
    )


def live_instance(owner, name="Loja", number="5511987654321"):
    """An instance connected through the simulator, in its trial."""
    instance = services.instance_connect(
        instance=services.instance_create(owner=owner, name=name),
        actor_kind="customer",
    )
    code = SimulatedSession.objects.get(engine_ref=instance.engine_ref).code
    services.engine_events_apply([engine_get().phone_scan(code, number)])
    instance.refresh_from_db()
    return instance


def billing_profile_for(user, **values):
    return BillingProfile.objects.create(
        account=user,
        **{
            "name": "Loja da Ana Ltda",
            "document": "11222333000181",
            "email": "financeiro@loja.com.br",
            "postal_code": "01310100",
            "street": "Avenida Paulista",
            "number": "1000",
            "district": "Bela Vista",
            "city": "São Paulo",
            "state": "SP",
            **values,
        },
    )


@pytest.fixture
def queued(monkeypatch):
    """The tasks billing sends after commit, recorded instead of sent."""
    sent = []
    monkeypatch.setattr(
        "celery.current_app.send_task",
        lambda name, args=(): sent.append((name, list(args))),
    )
    return sent


@pytest.fixture
def live(db, owner):
    return live_instance(owner)


@pytest.fixture
def profile(db, owner):
    return billing_profile_for(owner)


@pytest.fixture
def invoice(owner):
    """October's open invoice for the owner's one instance ("Vendas"), with its
    boleto and PIX."""
    billing_profile_for(owner)
    subscribed(InstanceFactory(owner=owner, name="Vendas"), sp(2026, 10, 1))
    billing_services.invoices_issue_for_period(
        period=date(2026, 10, 1), today=date(2026, 11, 1)
    )
    invoice = Invoice.objects.get(account=owner)
    billing_services.charge_issue(invoice=invoice)
    return invoice
