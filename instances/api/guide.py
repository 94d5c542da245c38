"""What the "Migrar do Z-API" page lists, read from the API's own routes so
that the page and the code cannot drift apart."""

from dataclasses import dataclass

from instances.api.core import IN_PATH, TOKEN_TAG, api

# The Z-API webhook types and the event of PlugMessage each one carries.
WEBHOOK_TYPES = [
    ("ReceivedCallback", "message.received", "update-webhook-received"),
    ("DeliveryCallback", "message.sent", "update-webhook-delivery"),
    ("MessageStatusCallback", "message.status", "update-webhook-message-status"),
    ("ConnectedCallback", "instance.connected", "update-webhook-connected"),
    ("DisconnectedCallback", "instance.disconnected", "update-webhook-disconnected"),
    ("PresenceChatCallback", "chat.presence", "update-webhook-chat-presence"),
]


# Routes PlugMessage offers on the token shape beyond Z-API's contract.
PLUGMESSAGE_ONLY = {"/exclusions", "/exclusions/{phone}", "/messages/{message_id}"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    success: str

    @property
    def in_zapi(self) -> bool:
        return self.path not in PLUGMESSAGE_ONLY


def compatible_routes() -> list[Route]:
    """Every route the token-in-path shape answers, with its method and the
    status it answers on success, in the order they were registered."""
    routes = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        if not path.startswith(IN_PATH):
            continue
        for method, operation in operations.items():
            if TOKEN_TAG not in operation.get("tags", []):
                continue
            success = min(
                (
                    str(code)
                    for code in operation["responses"]
                    if str(code).startswith("2")
                ),
                default="200",
            )
            routes.append(
                Route(
                    method=method.upper(),
                    path=path.removeprefix(IN_PATH),
                    summary=operation.get("summary", "").removesuffix(
                        " (token na URL)"
                    ),
                    success=success,
                )
            )
    return routes
