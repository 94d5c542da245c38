from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time each background process proved it was running (the
    worker when it runs a task, beat through its schedule). Read by /saude/."""

    name = models.CharField(_("processo"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("último sinal"), default=timezone.now)

    class Meta:
        verbose_name = _("sinal de vida")
        verbose_name_plural = _("sinais de vida")

    def __str__(self) -> str:
        return self.name
