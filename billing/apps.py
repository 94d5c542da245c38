from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Cobrança")

    def ready(self) -> None:
        from billing import signals  # noqa: F401 - connects the receivers
