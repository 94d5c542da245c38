from django.db.models import QuerySet

from accounts.models import User
from instances.models import ExclusionEntry, Instance, InstanceEvent


def instance_list_for_user(user: User) -> QuerySet[Instance]:
    """The customer's instances, newest first: one query whatever their number."""
    return Instance.objects.filter(owner=user).order_by("-created_at")


def instance_for_user(user: User, instance_id) -> Instance | None:
    """The instance if it belongs to `user`, else None (the caller answers 404,
    so another customer cannot even learn that it exists)."""
    return Instance.objects.filter(owner=user, pk=instance_id).first()


def instance_timeline(instance: Instance, *, limit: int = 20) -> list[InstanceEvent]:
    return list(
        instance.events.select_related("actor").order_by("-created_at", "-id")[:limit]
    )


def exclusions_for_instance(instance: Instance, *, search: str = "") -> QuerySet:
    entries = ExclusionEntry.objects.filter(instance=instance).select_related(
        "created_by"
    )
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        entries = (
            entries.filter(phone__contains=digits)
            if digits
            else entries.filter(reason__icontains=search)
        )
    return entries.order_by("-created_at")
