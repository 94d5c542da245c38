"""Days of money (due dates, payment dates, the month billed) are Brazil's:
counted in America/Sao_Paulo, named here, never taken from the active time
zone (a request may activate another) or from the machine's clock
(`date.today()` is the server's local day)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

BRAZIL = ZoneInfo("America/Sao_Paulo")


def today() -> date:
    """Today in Brazil."""
    return timezone.localdate(timezone=BRAZIL)


def day_of(moment: datetime) -> date:
    """The day in Brazil of an aware moment."""
    return timezone.localdate(moment, timezone=BRAZIL)
