"""Incidents, tasks and visits as subjects of indicators defined as data (reports.subjects).

An incident is counted on the grid it was reported in when a boundary change has since moved
it and that grid is valid on the period's last day, else on its grid. Only
cases count: merged duplicates and dismissed reports are left out. As a stock, an incident is
one still open at the end of the day."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, today
from grids.services.stats import grid_then, history_on
from incidents.models import (
    Category,
    Incident,
    Level,
    Priority,
    Source,
    Status,
    Task,
    TaskKind,
    Visit,
)
from incidents.services.metrics import DONE, cases
from reports.derived import Context
from reports.subjects import (
    BOOLEAN,
    CHOICE,
    CODE,
    DATE,
    DATETIME,
    NUMBER,
    REF,
    Field,
    enum_choices,
    in_grids,
    register,
)


def categories() -> list[tuple[str, str]]:
    return list(Category.objects.values_list("code", "name"))


def departments() -> list[tuple[str, str]]:
    return list(Department.objects.values_list("code", "name"))


def end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def on_time(op: str, value, on: dt.date) -> Q:
    """Closed with no step overdue (按期办结)."""
    closed_on_time = Q(status__in=DONE, overdue_count=0)
    if op in ("is_null", "not_null"):
        return Q() if op == "not_null" else Q(pk__in=[])
    yes = closed_on_time if value else ~closed_on_time
    return yes if op == "=" else ~yes


def incident_rows(context: Context, stock: bool):
    on = context.on
    # The grid it was reported in while that grid is valid on the day, else its grid now: by
    # the day alone, not by which grids are asked for, so that a street's report and the
    # district's (and a snapshot computed for some grids only) give each grid one figure.
    reported_valid = Q(reported_grid__valid_from__lte=on) & (
        Q(reported_grid__valid_to__isnull=True) | Q(reported_grid__valid_to__gt=on)
    )
    rows = cases(Incident.objects.all()).annotate(
        grid_on=Case(When(reported_valid, then=F("reported_grid")), default=F("grid"))
    )
    if stock:
        end = end_of(on)
        rows = rows.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end), reported_at__lt=end)
    return in_grids(rows, context.grid_ids)


register(
    "incidents",
    _("incidents"),
    "件",
    incident_rows,
    [
        Field("category", _("category"), CODE, "category", choices=categories, depth=3),
        Field("status", _("status"), CHOICE, "status", choices=enum_choices(Status)),
        Field("source", _("source"), CHOICE, "source", choices=enum_choices(Source)),
        Field("priority", _("priority"), CHOICE, "priority", choices=enum_choices(Priority)),
        Field("level", _("held by"), CHOICE, "level", choices=enum_choices(Level)),
        Field("department", _("department"), CHOICE, "department__code", choices=departments),
        Field("reported_at", _("reported at"), DATETIME, "reported_at", flow=True),
        Field("closed_at", _("closed at"), DATETIME, "closed_at", flow=True),
        Field("on_time", _("closed on time"), BOOLEAN, "overdue_count", lookup=on_time),
        Field("overdue_count", _("steps overdue"), NUMBER, "overdue_count", measurable=True),
        Field("rework_count", _("times sent back for rework"), NUMBER, "rework_count"),
        Field("satisfaction", _("reporter's satisfaction (1-5)"), NUMBER, "satisfaction"),
    ],
    stock_means=_("open at the end of the day"),
)


def task_rows(context: Context, stock: bool):
    rows = Task.objects.annotate(grid_on=F("grid_id"))
    if stock:
        end = end_of(context.on)
        rows = rows.filter(Q(done_at__isnull=True) | Q(done_at__gte=end), created_at__lt=end)
    return in_grids(rows, context.grid_ids)


register(
    "tasks",
    _("tasks"),
    "项",
    task_rows,
    [
        Field("kind", _("kind"), CHOICE, "kind", choices=enum_choices(TaskKind)),
        Field("due_on", _("due on"), DATE, "due_on", flow=True),
        Field("created_at", _("created at"), DATETIME, "created_at", flow=True),
        Field("done_at", _("done at"), DATETIME, "done_at", flow=True),
        Field("assignee", _("assignee"), REF, "assignee", measurable=True),
    ],
    stock_means=_("not done at the end of the day"),
)


def visit_rows(context: Context, stock: bool):
    # Visits keep no grid: the household's grid on the period's last day.
    on = context.on
    if on >= today():
        rows = Visit.objects.annotate(grid_on=F("household__grid_id"))
    else:
        rows = Visit.objects.annotate(
            past=history_on(on, "household__"), grid_on=grid_then("past", "household__")
        )
    return in_grids(rows, context.grid_ids)


register(
    "visits",
    _("visits"),
    "次",
    visit_rows,
    [
        Field("visited_at", _("visited at"), DATETIME, "visited_at", flow=True),
        Field("flagged", _("too far from the household"), BOOLEAN, "flagged"),
        Field("distance_m", _("distance from the household (m)"), NUMBER, "distance_m"),
        Field("household", _("household"), REF, "household", measurable=True),
        Field("worker", _("worker"), REF, "worker", measurable=True),
    ],
    stock=False,
)
