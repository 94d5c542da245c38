from django.contrib import admin
from django.http import HttpRequest

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff read webhooks here; customers change them in the panel."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = (
        "instance",
        "kind",
        "url",
        "enabled",
        "failing_since",
        "disabled_at",
    )
    list_filter = ("kind", "enabled", ("disabled_at", admin.EmptyFieldListFilter))
    search_fields = ("url", "instance__name", "instance__owner__email")
    list_select_related = ("instance",)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("started_at", "status_code", "duration_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


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
