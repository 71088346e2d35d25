"""What the report pages share: who may generate and import, the regions and periods a page
may be asked for, and refused addresses answered as a short page."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.api.errors import refusal
from grids.limits import InputRefused
from grids.models import Region, Role
from reports.models import UnitLevel
from reports.periods import Period

# Who brings departments' forms in and generates reports (as the API decides).
DEFINERS = frozenset({Role.DISTRICT_CENTRE, Role.DEPARTMENT, Role.ADMINISTRATOR})
GENERATORS = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE, Role.DEPARTMENT}
)
PERIOD_CHOICES = 12  # how many past periods the pickers offer
STATUS_LABELS = {"on_time": _("on time"), "late": _("late"), "missing": _("missing")}
STATUS_ORDER = {"missing": 0, "late": 1, "on_time": 2}
UNIT_ROWS = 300  # units listed at most; the rest by choosing a street or a status
LEVEL_LABELS = dict(UnitLevel.choices) | {"district": _("district")}


def may_generate(user) -> bool:
    return scoping.sees_everything(user) or user.role in GENERATORS


def may_import(user) -> bool:
    return scoping.sees_everything(user) or user.role in DEFINERS


def top_region(user) -> Region | None:
    """The region a user's reports, completeness and burden start from."""
    region = scoping.jurisdiction_region(user)
    if region is None and scoping.sees_everything(user):
        region = Region.objects.current().filter(level="district").order_by("code").first()
    return region


def regions_for(user) -> list[Region]:
    """The user's jurisdiction and its children: the regions a report can be made for."""
    top = top_region(user)
    if top is None:
        return []
    children = Region.objects.current().filter(parent=top).order_by("code")
    return [top, *children]


def region_asked(user, raw: str | None) -> Region:
    """The region asked for among those the user may see (404 otherwise), else theirs."""
    if not raw:
        region = top_region(user)
        if region is None:
            raise Http404("no region in your jurisdiction")
        return region
    region = Region.objects.visible_to(user).current().filter(code=raw).first()
    if region is None:
        raise Http404(f"no region {raw} in your jurisdiction")
    return region


def period_asked(raw: str | None, default: Period | None, name: str = "period") -> Period:
    if not raw:
        return default
    try:
        return Period.parse(raw)
    except ValueError as error:
        # A period the page cannot show is the address's fault (400), not a missing record.
        raise InputRefused(400, "bad_period", str(error), field=name) from error


def answers_refusals(view):
    """A page whose address is refused answers a short page naming the parameter and why
    (grids.api.errors.refusal), in the user's language."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except InputRefused as refused:
            return refusal(request, refused)

    return wrapped


def last_complete(kind: str, on=None) -> Period:
    return Period.containing(on or timezone.localdate(), kind).previous()


def running_option(kind: str) -> dict:
    running = Period.containing(timezone.localdate(), kind)
    return {"key": running.key, "label": running.label, "running": True}


def period_options(kind: str, count: int = PERIOD_CHOICES) -> list[dict]:
    """The last `count` complete periods of a type, newest first."""
    last = last_complete(kind)
    return [{"key": p.key, "label": p.label} for p in (last.shifted(-i) for i in range(count))]
