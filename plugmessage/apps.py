from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlugmessageConfig(AppConfig):
    name = "plugmessage"
    verbose_name = _("Operação")
