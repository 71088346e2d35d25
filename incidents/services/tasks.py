"""Tasks for grid workers (任务) and the visits that do them (走访): a task names the
households to visit by a date; a visit records where the worker's phone was and is flagged
when that is farther from the household than settings.GRIDLINE_VISIT_DISTANCE_M."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import timestamps
from grids.models import Grid, Household, Resident, Role
from grids.problems import Problem, ProblemsError
from grids.services.households import check_in_jurisdiction
from incidents.models import Task, TaskKind, TaskTarget, Visit

TASK_WRITERS = {Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.ADMINISTRATOR}


def _problem(code: str, message: str, field: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def create_visit_task(
    grid: Grid,
    *,
    title: str,
    due_on: dt.date,
    user,
    tag: str | None = None,
    assignee=None,
    kind: str = TaskKind.VISIT,
) -> Task:
    """A task to visit the grid's households (those with a resident tagged `tag`, or all)."""
    if not (user.is_superuser or user.role in TASK_WRITERS):
        raise _problem("not_permitted", _("your role does not give tasks"), "grid")
    check_in_jurisdiction(user, grid)
    if not title.strip():
        raise _problem("required", _("a title is required"), "title")
    if assignee is not None and not (
        assignee.role == Role.GRID_WORKER and assignee.grid_id == grid.pk
    ):
        raise _problem(
            "assignee_not_in_grid", f"{assignee} does not work in grid {grid.code}", "assignee"
        )
    households = Household.objects.filter(grid=grid).existing_on()
    if tag:
        households = households.filter(
            Exists(Resident.objects.filter(household=OuterRef("pk"), tags__contains=[tag]))
        )
    with transaction.atomic():
        # The grid row locked against a boundary change retiring it meanwhile (its open
        # tasks are handed to the successor then; one written after would stay behind).
        if Grid.objects.select_for_update().get(pk=grid.pk).valid_to is not None:
            raise _problem(
                "grid_retired",
                _("grid %(grid)s is retired: give the task to its successor") % {"grid": grid.code},
                "grid",
            )
        task = Task.objects.create(
            title=title.strip(),
            kind=kind,
            grid=grid,
            assignee=assignee,
            due_on=due_on,
            created_by=user,
        )
        TaskTarget.objects.bulk_create(
            TaskTarget(task=task, household_id=pk) for pk in households.values_list("pk", flat=True)
        )
    return task


def record_visit(
    household_id: int,
    location: Point,
    *,
    user,
    note: str = "",
    client_key: uuid.UUID | None = None,
    visited_at: dt.datetime | None = None,
) -> tuple[Visit, bool]:
    """Record a visit (idempotent on the client key) and tick it off the open tasks that ask
    for this household. Returns (visit, created)."""
    if client_key and (existing := Visit.objects.filter(client_key=client_key).first()):
        if existing.worker_id != user.pk:
            raise _problem("key_conflict", _("this client key is already in use"), "client_key")
        return existing, False
    household = (
        Household.objects.visible_to(user)
        .filter(pk=household_id)
        .annotate(metres=Distance("location", location))
        .first()
    )
    if household is None:
        raise _problem(
            "unknown_household",
            _("no household %(id)s in your grid") % {"id": household_id},
            "household",
        )
    metres = household.metres.m
    visited_at = visited_at or timezone.now()
    # The worker's phone had the household from the platform, so a visit cannot precede its
    # registration; nor lie ahead of the server's clock beyond the skew (grids.timestamps).
    problem = timestamps.moment_problem(
        visited_at,
        "visited_at",
        not_before=timestamps.start_of(household.registered_on),
        since=_("the household was registered"),
    )
    if problem is not None:
        raise ProblemsError([problem])
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                client_key=client_key or uuid.uuid4(),
                household=household,
                worker=user,
                location=location,
                distance_m=round(metres, 1),
                flagged=metres > settings.GRIDLINE_VISIT_DISTANCE_M,
                visited_at=visited_at,
                note=note,
            )
            targets = TaskTarget.objects.filter(
                household=household, visit__isnull=True, task__done_at__isnull=True
            ).select_for_update(of=("self",))
            task_ids = list(targets.values_list("task_id", flat=True))
            targets.update(visit=visit)
            finished = Task.objects.filter(pk__in=task_ids).exclude(
                Exists(TaskTarget.objects.filter(task=OuterRef("pk"), visit__isnull=True))
            )
            finished.update(done_at=visited_at)
    except IntegrityError:
        if client_key and (existing := Visit.objects.filter(client_key=client_key).first()):
            return existing, False
        raise
    return visit, True


def task_figures(tasks: QuerySet[Task], by: str, today: dt.date | None = None) -> list[dict]:
    """Completion per grid or per worker: tasks, done, done on time, open past due, and the
    visits made for them with how many were flagged."""
    today = today or timezone.localdate()
    key = {"grid": ("grid_id", "grid__code"), "worker": ("assignee_id", "assignee__username")}
    if by not in key:
        raise ValueError("task figures are grouped by grid or worker")
    pk, label = key[by]
    done = Q(done_at__isnull=False)
    rows = list(
        tasks.order_by()
        .values(key=F(pk), label=F(label))
        .annotate(
            tasks=Count("id", distinct=True),
            done=Count("id", filter=done, distinct=True),
            done_on_time=Count(
                "id", filter=done & Q(done_at__date__lte=F("due_on")), distinct=True
            ),
            overdue=Count("id", filter=~done & Q(due_on__lt=today), distinct=True),
            visits=Count("targets__visit", distinct=True),
            flagged_visits=Count(
                "targets__visit", filter=Q(targets__visit__flagged=True), distinct=True
            ),
        )
        .order_by("label")
    )
    for row in rows:
        row["completion_rate"] = round(row["done"] / row["tasks"], 4) if row["tasks"] else None
    return rows
