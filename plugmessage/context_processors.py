from django.http import HttpRequest

# Which sidebar entry a URL namespace (or a bare allauth URL name) belongs to.
_SECTIONS = {
    "instances": "instances",
    "webhooks": "instances",
    "billing": "billing",
    "support": "support",
    "accounts": "account",
}
_DOCS = {"webhooks:docs", "instances:docs_migrate_zapi"}
_ACCOUNT_URL_NAMES = {"account_change_password", "account_set_password"}


def navigation(request: HttpRequest) -> dict:
    match = getattr(request, "resolver_match", None)
    section = ""
    if match is not None:
        if match.namespace == "api" or match.view_name in _DOCS:
            section = "docs"
        elif match.view_name == "support:best_practices":
            section = "best_practices"
        elif match.view_name == "billing:profile":
            section = "account"
        elif match.view_name in ("billing:subscribe", "billing:cancel"):
            section = "instances"
        elif match.url_name in _ACCOUNT_URL_NAMES:
            section = "account"
        else:
            section = _SECTIONS.get(match.namespace, "")
    return {"nav_section": section}
