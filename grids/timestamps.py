"""Dates and times a client sends: never before the record could exist, never in the future
beyond a small clock skew, and always within the years the platform plans for.

A phone's clock may run a little ahead, so "now" is stretched by
settings.GRIDLINE_CLOCK_SKEW_SECONDS; nothing on the platform is older than
settings.GRIDLINE_EARLIEST_DATE; and no date a client names is after LATEST_YEAR, which
also keeps date arithmetic (a period's end, "the 30 days before") inside what a date holds.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.problems import Problem

LATEST_YEAR = 2100


def earliest_date() -> dt.date:
    return settings.GRIDLINE_EARLIEST_DATE


def clock_skew() -> dt.timedelta:
    return dt.timedelta(seconds=settings.GRIDLINE_CLOCK_SKEW_SECONDS)


def start_of(day: dt.date) -> dt.datetime:
    """The first moment of a local day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def too_early(field: str, shown: str, since: str = "", floor: dt.datetime | None = None):
    floor = floor or start_of(earliest_date())
    return Problem(
        "too_early",
        _("%(field)s %(value)s is before %(since)s (%(floor)s)")
        % {
            "field": field,
            "value": shown,
            "since": since or _("the earliest date the platform keeps"),
            "floor": timezone.localtime(floor).replace(microsecond=0).isoformat(),
        },
        field=field,
    )


def in_the_future(field: str, shown: str) -> Problem:
    return Problem(
        "in_the_future",
        _("%(field)s %(value)s is in the future (more than %(skew)s s ahead of the server)")
        % {"field": field, "value": shown, "skew": f"{settings.GRIDLINE_CLOCK_SKEW_SECONDS:g}"},
        field=field,
    )


def moment_problem(
    value: dt.datetime,
    field: str,
    *,
    not_before: dt.datetime | None = None,
    since: str = "",
    shown: str | None = None,
) -> Problem | None:
    """Why a client's timestamp cannot be, or None. `not_before` is when the record it
    belongs to began (a household's registration), `since` names that moment; `shown` is
    the value as the client wrote it."""
    shown = shown or value.isoformat()
    skew = clock_skew()
    if value < start_of(earliest_date()) - skew:
        return too_early(field, shown)
    if not_before is not None and value < not_before - skew:
        return too_early(field, shown, since, not_before)
    if value > timezone.now() + skew:
        return in_the_future(field, shown)
    return None


def date_problem(value: dt.date, field: str) -> Problem | None:
    """Why a date a client names (a query's `from`, `to` or `on`) is outside the years the
    platform keeps and plans for, or None."""
    first = earliest_date()
    if first <= value <= dt.date(LATEST_YEAR, 12, 31):
        return None
    return Problem(
        "out_of_range",
        _("%(field)s %(value)s is out of range: dates run from %(first)s to %(last)s")
        % {
            "field": field,
            "value": value.isoformat(),
            "first": first.isoformat(),
            "last": f"{LATEST_YEAR}-12-31",
        },
        field=field,
    )
