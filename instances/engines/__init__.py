from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from instances.engines.base import Engine


@cache
def _engine(path: str) -> Engine:
    return import_string(path)()


def engine_get() -> Engine:
    """The engine chosen by the WHATSAPP_ENGINE setting."""
    return _engine(settings.WHATSAPP_ENGINE)
