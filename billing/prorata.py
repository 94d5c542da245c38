"""Pro rata by day, in São Paulo days: which days of a month an instance was
subscribed, and what that costs. Pure functions, no database."""

import calendar
from collections.abc import Iterable
from datetime import date, datetime

from django.utils import timezone

from billing import dates


def month_first(day: date) -> date:
    return day.replace(day=1)


def month_next(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def month_days(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def month_start_aware(period: date) -> datetime:
    """Midnight of the month's first day in São Paulo, as an aware datetime."""
    return timezone.make_aware(datetime(period.year, period.month, 1))


def days_subscribed(
    periods: Iterable[tuple[datetime, datetime | None]],
    period: date,
    *,
    until: date | None = None,
) -> int:
    """How many calendar days of the month (São Paulo) the instance was
    subscribed at any moment of. A day in which it was cancelled counts, and
    so does a day in which it was subscribed again: each day counts once.
    `until` stops an open period early (the preview of the current month)."""
    first = month_first(period)
    last = first.replace(day=month_days(first))
    if until is not None:
        last = min(last, until)
    days: set[int] = set()
    for started_at, ended_at in periods:
        start = max(dates.day_of(started_at), first)
        end = min(dates.day_of(ended_at), last) if ended_at else last
        if start <= end:
            days.update(range(start.toordinal(), end.toordinal() + 1))
    return len(days)


def amount_for_days(monthly_cents: int, days: int, days_in_month: int) -> int:
    """monthly × days ÷ days in the month, rounded half up to the centavo,
    in integers (no float ever touches money)."""
    return (2 * monthly_cents * days + days_in_month) // (2 * days_in_month)
