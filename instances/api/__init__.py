"""The instance API (django-ninja): see core for how each action answers on
both route shapes."""

from instances.api import (
    exclusion_routes,
    instance_routes,
    message_routes,
    webhook_routes,
)
from instances.api.core import api

__all__ = [
    "api",
    "exclusion_routes",
    "instance_routes",
    "message_routes",
    "webhook_routes",
]
