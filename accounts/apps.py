from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Usuários e auditoria")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_support_group, dispatch_uid="support_group_sync")


def _sync_support_group(sender, using="default", **kwargs) -> None:
    # Models added by later migrations get their view permission too.
    from accounts.services import support_group_sync

    support_group_sync(using=using)
