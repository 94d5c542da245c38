from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from billing.providers.base import PaymentProvider


@cache
def _provider(path: str) -> PaymentProvider:
    return import_string(path)()


def provider_get() -> PaymentProvider:
    """The payment provider chosen by the PAYMENT_PROVIDER setting."""
    return _provider(settings.PAYMENT_PROVIDER)
