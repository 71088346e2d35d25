"""How well incidents are handled, per grid, community, street or department, over any
period, and the grids' three-colour status (三色管理) derived from it.

Counted: incidents reported in the period that became cases, i.e. not merged into another
and not dismissed (不予立案: closed without ever being dispatched).
- closure rate (结案率) = closed / cases
- on-time closure rate (按期结案率) = closed with no step overdue / closed
- rework rate (返工率) = closed after at least one rework / closed
- mean hours per step = mean time from the previous step to each step, by action
- satisfaction = the reporters' mean score (1-5); department score = the dispatchers' mean
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from grids.models import Colour, Grid
from grids.signals import data_changed
from incidents import sql as incidents_sql
from incidents.models import Incident, Status

GROUPS = {
    "grid": ("grid_id", "grid__code", "grid__name"),
    "community": ("community_id", "community__code", "community__name"),
    "street": ("street_id", "street__code", "street__name"),
    "department": ("department_id", "department__code", "department__name"),
}
DONE = [Status.CLOSED, Status.ASSESSED]


def cases(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.filter(merged_into__isnull=True).exclude(status__in=DONE, handler_level="")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def incident_metrics(
    incidents: QuerySet[Incident], by: str, start: dt.date, end: dt.date
) -> list[dict]:
    """One row per group with cases reported from `start` to `end` (both included);
    `incidents` is already scoped to the user."""
    if by not in GROUPS:
        raise ValueError(f"metrics are grouped by one of {sorted(GROUPS)}")
    key, code, name = GROUPS[by]
    scoped = cases(incidents).filter(
        reported_at__date__gte=start, reported_at__date__lte=end, **{f"{key}__isnull": False}
    )
    done = Q(status__in=DONE)
    rows = list(
        scoped.order_by()
        .values(key=F(key), code=F(code), name=F(name))
        .annotate(
            cases=Count("id"),
            closed=Count("id", filter=done),
            closed_on_time=Count("id", filter=done & Q(overdue_count=0)),
            reworked=Count("id", filter=done & Q(rework_count__gt=0)),
            overdue_open=Count("id", filter=~done & Q(step_overdue=True)),
            satisfaction=Avg("satisfaction"),
            department_score=Avg("department_score"),
        )
        .order_by("code")
    )
    step_hours = incidents_sql.mean_hours_per_step(scoped.values_list("id", key))
    for row in rows:
        row["closure_rate"] = _rate(row["closed"], row["cases"])
        row["on_time_rate"] = _rate(row["closed_on_time"], row["closed"])
        row["rework_rate"] = _rate(row["reworked"], row["closed"])
        for score in ("satisfaction", "department_score"):
            if row[score] is not None:
                row[score] = round(float(row[score]), 2)
        row["mean_hours"] = step_hours.get(row["key"], {})
    return rows


def colour_for(row: dict | None, rule: dict) -> str:
    """The three-colour rule (settings.GRIDLINE_COLOUR_RULE): red if any red threshold is
    crossed, else yellow if any yellow one is, else blue."""
    if row is None:
        return Colour.BLUE
    enough = row["closed"] >= rule.get("min_incidents", 0)
    for colour in (Colour.RED, Colour.YELLOW):
        limits = rule.get(colour, {})
        if row["overdue_open"] >= limits.get("overdue_open", float("inf")):
            return colour
        if not enough:
            continue
        if row["on_time_rate"] is not None and row["on_time_rate"] < limits.get(
            "on_time_rate_below", -1
        ):
            return colour
        if row["satisfaction"] is not None and row["satisfaction"] < limits.get(
            "satisfaction_below", -1
        ):
            return colour
    return Colour.BLUE


def update_grid_colours(on: dt.date | None = None) -> dict[str, int]:
    """Recolour every current grid from its incidents over the rule's last `days` days.
    Returns how many grids changed to each colour."""
    rule = settings.GRIDLINE_COLOUR_RULE
    on = on or timezone.localdate()
    start = on - dt.timedelta(days=int(rule.get("days", 30)) - 1)
    rows = {row["key"]: row for row in incident_metrics(Incident.objects.all(), "grid", start, on)}
    changed: dict[str, list[int]] = defaultdict(list)
    for grid_id, colour in Grid.objects.current().values_list("pk", "colour"):
        wanted = colour_for(rows.get(grid_id), rule)
        if wanted != colour:
            changed[str(wanted)].append(grid_id)
    with transaction.atomic():
        for colour, ids in changed.items():
            Grid.objects.filter(pk__in=ids).update(colour=colour)
        if changed:
            data_changed.send(sender=Grid)
    return {colour: len(ids) for colour, ids in changed.items()}
