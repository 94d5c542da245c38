from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from instances.engines.base import Engine, EngineSession


@cache
def _engine(path: str) -> Engine:
    return import_string(path)()


def engine_get() -> Engine:
    """The engine chosen by the WHATSAPP_ENGINE setting."""
    return _engine(settings.WHATSAPP_ENGINE)


def session_of(instance) -> EngineSession:
    """The engine's session of an instance."""
    return EngineSession(
        engine_ref=instance.engine_ref, engine_token=instance.engine_token
    )
