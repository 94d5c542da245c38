from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from plugmessage.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSettings,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = (
        "instance",
        "kind",
        "url_masked",
        "enabled",
        "failing_since",
        "disabled_at",
    )
    exclude = ("url",)
    readonly_fields = ("url_masked",)
    list_filter = ("kind", "enabled", ("disabled_at", admin.EmptyFieldListFilter))
    search_fields = ("url", "instance__name", "instance__owner__email")
    list_select_related = ("instance",)


class WebhookAttemptInline(ReadOnlyTabularInline):
    model = WebhookAttempt
    fields = (
        "started_at",
        "status_code",
        "duration_ms",
        "error",
        "error_detail",
        "response_body",
    )
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "is_test", "event__kind")
    search_fields = ("event__id", "endpoint__url", "endpoint__instance__owner__email")
    list_select_related = ("event", "endpoint")
    readonly_fields = (
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "locked_until",
        "is_test",
        "created_at",
        "finished_at",
    )
    exclude = ()
    inlines = [WebhookAttemptInline]


@admin.register(WebhookSettings)
class WebhookSettingsAdmin(ReadOnlyAdmin):
    """Which signing secret an instance uses, masked: staff can tell a
    customer which one is current without being able to read it."""

    list_display = (
        "instance",
        "masked_secret",
        "previous_expires_at",
        "payload_format",
        "notify_sent_by_me",
    )
    list_filter = ("payload_format",)
    search_fields = ("instance__name", "instance__owner__email")
    fields = (
        "instance",
        "masked_secret",
        "masked_previous_secret",
        "previous_expires_at",
        "payload_format",
        "notify_sent_by_me",
    )
    readonly_fields = fields
    list_select_related = ("instance",)

    @admin.display(description=_("segredo"))
    def masked_secret(self, settings: WebhookSettings) -> str:
        return _mask(settings.secret)

    @admin.display(description=_("segredo anterior"))
    def masked_previous_secret(self, settings: WebhookSettings) -> str:
        return _mask(settings.previous_secret)


def _mask(secret: str) -> str:
    return f"{secret[:10]}…{secret[-4:]}" if secret else "—"
