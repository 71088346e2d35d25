"""/field/patrols/ (main site, issue #18): the patrols of the grid workers a community, street
or district oversees in a month: hours and kilometres per worker, and a map of the tracks.
Community staff and above; a grid worker sees their own patrols on the phone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from field.services import patrols
from grids import scoping
from grids.models import Role
from reports.periods import Period, PeriodType

OVERSEERS = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE, Role.ADMINISTRATOR}
)


def may_see(user) -> bool:
    return bool(user.is_superuser or scoping.sees_everything(user) or user.role in OVERSEERS)


def month_of(raw: str | None) -> Period:
    if not raw:
        return Period.containing(timezone.localdate(), PeriodType.MONTH)
    period = Period.parse(raw)
    if period.type != PeriodType.MONTH:
        raise ValueError(_("a month, e.g. 2026-12"))
    return period


@login_required
def patrols_page(request):
    if not may_see(request.user):
        raise PermissionDenied(_("The patrols page is for community staff and above."))
    try:
        month = month_of(request.GET.get("month"))
    except ValueError as error:
        return HttpResponseBadRequest(f"{_('month')}: {error}")
    last_day = month.last_day
    rows = patrols.figures(request.user, "worker", month.start, last_day)
    totals = {
        "count": sum(r["count"] for r in rows),
        "hours": round(sum(r["hours"] for r in rows), 2),
        "km": round(sum(r["km"] for r in rows), 2),
        "active": sum(1 for r in rows if r["count"]),
    }
    config = {
        "api": reverse("field-patrols"),
        "date_from": month.start.isoformat(),
        "date_to": last_day.isoformat(),
        "style": reverse("map-style") + "?theme=light",
    }
    return render(
        request,
        "field/patrols.html",
        {
            "rows": rows,
            "totals": totals,
            "month": month,
            "previous": month.previous().key,
            "next": month.shifted(1).key if month.end <= timezone.localdate() else None,
            "config": config,
        },
    )
