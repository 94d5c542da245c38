from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from billing import dates, services
from billing.models import BillingProfile, Invoice, SubscriptionPeriod
from instances import services as instance_services
from instances.models import Instance

DEMO_EMAIL = "demo@plugmessage.local"
DEMO_INSTANCE = "Loja demonstração (assinada)"


class Command(BaseCommand):
    help = (
        "Dá à conta de demonstração uma instância assinada desde o mês passado e a "
        "fatura desse mês, com boleto e PIX (para `make run`). Idempotente."
    )

    def handle(self, *args, **options):
        account = User.objects.filter(email=DEMO_EMAIL).first()
        if account is None:
            raise CommandError("Rode antes: manage.py demo_setup")
        BillingProfile.objects.get_or_create(
            account=account,
            defaults={
                "name": "Cliente Demonstração ME",
                "document": "52998224725",
                "email": DEMO_EMAIL,
                "postal_code": "01310100",
                "street": "Avenida Paulista",
                "number": "1000",
                "district": "Bela Vista",
                "city": "São Paulo",
                "state": "SP",
            },
        )
        this_month = dates.today().replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        instance = Instance.objects.filter(owner=account, name=DEMO_INSTANCE).first()
        if instance is None:
            instance = instance_services.instance_create(
                owner=account, name=DEMO_INSTANCE
            )
            services.subscription_start(instance=instance, actor=account)
            # Subscribed since the start of last month, so that month has an invoice.
            SubscriptionPeriod.objects.filter(instance_uuid=instance.pk).update(
                started_at=timezone.make_aware(
                    datetime(last_month.year, last_month.month, 1)
                )
            )
        services.invoices_issue_for_period(period=last_month)
        services.charges_issue_pending()
        invoice = Invoice.objects.filter(account=account, period=last_month).first()
        if invoice is not None:
            self.stdout.write(
                f"  Fatura de demonstração de {last_month:%m/%Y} em /boletos/ "
                "(com “Simular pagamento”)."
            )
