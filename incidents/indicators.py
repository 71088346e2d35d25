"""Incident and visit figures as derived indicators of 一表通 (reports.derived): flows
counted in the period on the grid the incident was keyed to when reported (a boundary change
that re-keys an open incident keeps that grid in Incident.reported_grid)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, F, Q, When
from django.utils import timezone

from incidents.models import Incident, Status, Visit
from incidents.services.metrics import cases
from reports.derived import Context, register

DONE = [Status.CLOSED, Status.ASSESSED]


def _counts(queryset, key: str = "grid_id") -> dict[int, int]:
    return dict(queryset.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n"))


def _in_period(context: Context, field: str) -> Q:
    # A range on the timestamp itself (not __date) so the time indexes apply.
    start, end = (
        timezone.make_aware(dt.datetime.combine(day, dt.time()))
        for day in (context.period.start, context.period.end)
    )
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


@register(
    key="incidents_reported",
    code="GOV_INCIDENTS_REPORTED",
    name="上报事件数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("事件上报数", "受理事件数"),
    description="Cases reported in the period (merged duplicates and dismissed reports left out).",
)
def incidents_reported(context: Context):
    on = context.on
    # Counted on the grid it was reported in while that grid is valid on the period's last
    # day (a boundary change has since moved it), otherwise on its grid (a grid retired
    # within the period: its successor), so no case drops out of the totals. By the day
    # alone, not by which grids are asked for: a street's report, the district's and a
    # snapshot computed for some grids only give each case one grid (as incidents/subjects.py).
    reported_valid = Q(reported_grid__valid_from__lte=on) & (
        Q(reported_grid__valid_to__isnull=True) | Q(reported_grid__valid_to__gt=on)
    )
    incidents = cases(
        Incident.objects.annotate(
            grid_then=Case(When(reported_valid, then=F("reported_grid")), default=F("grid"))
        ).filter(grid_then__in=context.grid_ids)
    )
    return _counts(incidents.filter(_in_period(context, "reported_at")), "grid_then")


@register(
    key="incidents_closed",
    code="GOV_INCIDENTS_CLOSED",
    name="办结事件数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("结案数", "已办结事件数", "事件办结数"),
    description="Cases closed in the period.",
)
def incidents_closed(context: Context):
    incidents = cases(Incident.objects.filter(grid__in=context.grid_ids, status__in=DONE))
    return _counts(incidents.filter(_in_period(context, "closed_at")))


@register(
    key="incidents_closed_on_time",
    code="GOV_INCIDENTS_ON_TIME",
    name="按期办结事件数",
    unit="件",
    group="governance",
    time_aggregation="sum",
    aliases=("按时办结数", "按期结案数"),
    description="Cases closed in the period with no step overdue.",
)
def incidents_closed_on_time(context: Context):
    incidents = cases(
        Incident.objects.filter(grid__in=context.grid_ids, status__in=DONE, overdue_count=0)
    )
    return _counts(incidents.filter(_in_period(context, "closed_at")))


@register(
    key="visits",
    code="GOV_VISITS",
    name="入户走访次数",
    unit="次",
    group="governance",
    time_aggregation="sum",
    aliases=("走访户数", "入户走访数", "走访次数"),
    description="Visits made in the period, by the household's grid today (visits keep no grid).",
)
def visits(context: Context):
    rows = Visit.objects.filter(household__grid__in=context.grid_ids).filter(
        _in_period(context, "visited_at")
    )
    return _counts(rows, "household__grid_id")
