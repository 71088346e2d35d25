"""The small sets of a grid worker's working set (issue #18): incidents, tasks, visits,
categories, the ledger, notifications, boundary change sets, patrols, and (#20) the grid's
needs with the catalogue of service kinds. Each is at most a few hundred records, so it is
built whole on every pull and sent whole when it changed."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from boundaries.models import ChangeSet, ChangeSetItem
from field.models import Patrol
from field.services import versions
from grids import scoping
from incidents.models import Category, Incident, IncidentPhoto, Task, Visit
from incidents.services.transitions import allowed_actions
from needs.models import Dispatch, Need, NeedPhoto, ServiceKind
from notifications.models import Notification
from reports.api.serializers import RuleSerializer
from reports.api.views.ledger import sheet_data
from reports.models import ValidationRule
from reports.periods import Period, PeriodType
from reports.services import ledger as ledger_service

INCIDENT_CAP = 500
TASK_DONE_DAYS = 7
VISIT_DAYS = 31
NOTIFICATION_CAP = 50
CHANGESET_CAP = 20
PATROL_CAP = 20


def _lonlat(point) -> tuple[float | None, float | None]:
    if point is None:
        return None, None
    return round(point.x, 6), round(point.y, 6)


def incidents(user, ids=None) -> list[dict]:
    """Open incidents of the worker's grid (those waiting for the worker's step among them);
    with `ids`, those incidents whatever their status (the outbox answers one it closed)."""
    rows = Incident.objects.visible_to(user).filter(grid=user.grid_id)
    rows = rows.open() if ids is None else rows.filter(pk__in=list(ids))
    rows = (
        rows.select_related("category")
        .prefetch_related(Prefetch("photos", queryset=IncidentPhoto.objects.order_by("at", "id")))
        .order_by("-reported_at", "-id")[:INCIDENT_CAP]
    )
    records = []
    for incident in rows:
        lon, lat = _lonlat(incident.location)
        records.append(
            {
                "id": incident.pk,
                "version": versions.incident(incident),
                "title": incident.title,
                "category": incident.category.code,
                "category_name": incident.category.name,
                "description": incident.description,
                "status": incident.status,
                "status_name": incident.get_status_display(),
                "level": incident.level,
                "priority": incident.priority,
                "lon": lon,
                "lat": lat,
                "reported_at": incident.reported_at,
                "due_at": incident.due_at,
                "step_overdue": incident.step_overdue,
                "actions": allowed_actions(user, incident),
                "photos": [{"url": photo.image.url} for photo in incident.photos.all()],
                # Waiting for a grid worker of this grid (IncidentQuerySet.held_by's rule).
                "mine": incident.level == "grid" and incident.grid_id == user.grid_id,
            }
        )
    return records


def tasks(user, ids=None) -> list[dict]:
    """Open tasks of the worker's grid, and those done in the last week (with `ids`: those)."""
    since = timezone.now() - dt.timedelta(days=TASK_DONE_DAYS)
    rows = Task.objects.visible_to(user).filter(grid=user.grid_id)
    if ids is None:
        rows = rows.filter(Q(done_at__isnull=True) | Q(done_at__gte=since))
    else:
        rows = rows.filter(pk__in=list(ids))
    rows = rows.prefetch_related("targets").order_by("due_on", "id")
    records = []
    for task in rows:
        record = {
            "id": task.pk,
            "title": task.title,
            "kind": task.kind,
            "kind_name": task.get_kind_display(),
            "due_on": task.due_on,
            "done_at": task.done_at,
            "assignee_id": task.assignee_id,
            "targets": [
                {"household_id": t.household_id, "visit_id": t.visit_id}
                for t in sorted(task.targets.all(), key=lambda t: t.pk)
            ],
        }
        records.append({"version": versions.stamp_of(record), **record})
    return records


def visits(user, ids=None) -> list[dict]:
    """The worker's visits of the last month (with `ids`: those)."""
    since = timezone.now() - dt.timedelta(days=VISIT_DAYS)
    rows = Visit.objects.visible_to(user).filter(worker=user)
    rows = rows.filter(visited_at__gte=since) if ids is None else rows.filter(pk__in=list(ids))
    rows = rows.order_by("-visited_at", "-id").values(
        "id", "household_id", "visited_at", "distance_m", "flagged", "note"
    )
    return [{"version": versions.stamp_of(row), **row} for row in rows]


def categories(user) -> list[dict]:
    rows = (
        Category.objects.filter(active=True).order_by("code").values("code", "name", "parent__code")
    )
    return [
        {
            "id": row["code"],
            "version": versions.stamp_of(row),
            "code": row["code"],
            "name": row["name"],
            "parent": row["parent__code"],
        }
        for row in rows
    ]


def ledger_period() -> Period:
    """The period the ledger pages open on: the last month (filled in during this one)."""
    return Period.containing(timezone.localdate(), PeriodType.MONTH).previous()


def ledger(user, period: Period | None = None) -> list[dict]:
    """This period's sheet of the worker's grid, as GET /api/reports/ledger/ answers it,
    with the validation rules between its indicators (as /api/reports/rules/ lists them)."""
    grid = user.grid
    period = period or ledger_period()
    sheet = ledger_service.sheet(grid, period)
    data = sheet_data(sheet)
    codes = [item["indicator"] for item in data["items"]]
    rules = ValidationRule.objects.filter(Q(left__code__in=codes) | Q(right__code__in=codes))
    data["rules"] = RuleSerializer(
        rules.select_related("left", "right").order_by("code"), many=True
    ).data
    return [
        {
            "id": f"{grid.code}:{period.key}",
            "version": versions.ledger(sheet),
            "grid": grid.code,
            **data,
        }
    ]


def notifications(user) -> list[dict]:
    rows = Notification.objects.visible_to(user).order_by("-created_at", "-id")[:NOTIFICATION_CAP]
    records = []
    for n in rows:
        record = {
            "id": n.pk,
            "kind": n.kind,
            "title": n.title,
            "text": n.body,
            "url": n.url,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        records.append({"version": versions.stamp_of(record), **record})
    return records


def changesets(user) -> list[dict]:
    """Boundary change sets with an item on the worker's grid."""
    touching = ChangeSetItem.objects.filter(change_set=OuterRef("pk"), grid=user.grid_id)
    rows = (
        ChangeSet.objects.visible_to(user)
        .filter(Exists(touching))
        .order_by("-updated_at", "-id")[:CHANGESET_CAP]
    )
    records = []
    for cs in rows:
        record = {
            "id": cs.pk,
            "title": cs.title,
            "status": cs.status,
            "status_name": cs.get_status_display(),
            "updated_at": cs.updated_at,
            "url": reverse("boundary-editor", args=[cs.pk]),
        }
        records.append({"version": versions.stamp_of(record), **record})
    return records


def patrols(user, ids=None) -> list[dict]:
    """The worker's latest patrols in the grid (with `ids`: those)."""
    rows = Patrol.objects.filter(worker=user, grid=user.grid_id)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    rows = rows.prefetch_related("incident_links").order_by("-started_at", "-id")[:PATROL_CAP]
    records = []
    for patrol in rows:
        record = {
            "id": patrol.pk,
            "client_key": str(patrol.client_key),
            "started_at": patrol.started_at,
            "ended_at": patrol.ended_at,
            "distance_m": patrol.distance_m,
            "duration_s": patrol.duration_s,
            "incident_ids": sorted(link.incident_id for link in patrol.incident_links.all()),
        }
        records.append({"version": versions.stamp_of(record), **record})
    return records


NEED_DONE_DAYS = 30
NEED_CAP = 500
# A provider's open dispatch: the worker sees who is serving the need and what they reported.
OPEN_DISPATCH = ("sent", "accepted", "reported")


def needs(user, ids=None) -> list[dict]:
    """The needs of the worker's grid (#20): every one not closed, and those done, declined or
    merged in the last 30 days (with `ids`: those, whatever their state). The contact is as
    the worker sees it: masked without personal data."""
    since = timezone.now() - dt.timedelta(days=NEED_DONE_DAYS)
    rows = Need.objects.visible_to(user).filter(grid=user.grid_id)
    if ids is None:
        rows = rows.filter(~Q(status__in=("done", "declined", "merged")) | Q(updated_at__gte=since))
    else:
        rows = rows.filter(pk__in=list(ids))
    rows = (
        rows.select_related("kind", "merged_into")
        .prefetch_related(
            Prefetch("photos", queryset=NeedPhoto.objects.order_by("at", "id")),
            Prefetch(
                "dispatches",
                queryset=Dispatch.objects.select_related("provider").order_by(
                    "-dispatched_at", "-id"
                ),
            ),
        )
        .order_by("-raised_at", "-id")[:NEED_CAP]
    )
    personal = scoping.sees_personal_data(user)
    mask_name, mask_phone = scoping.MASKS["name"], scoping.MASKS["phone"]
    records = []
    for need in rows:
        lon, lat = _lonlat(need.location)
        dispatches = list(need.dispatches.all())
        latest = dispatches[0] if dispatches else None
        serving = latest if latest and latest.status in (*OPEN_DISPATCH, "confirmed") else None
        provider = serving.provider if serving else None
        records.append(
            {
                "id": need.pk,
                "version": str(need.version),
                "number": need.number,
                "kind": need.kind.code,
                "kind_name": need.kind.name,
                "title": need.title,
                "description": need.description,
                "urgency": need.urgency,
                "source": need.source,
                "status": need.status,
                "status_name": need.get_status_display(),
                "lon": lon,
                "lat": lat,
                "address": need.address,
                "household_id": need.household_id,
                "contact_name": need.contact_name if personal else mask_name(need.contact_name),
                "contact_phone": need.contact_phone if personal else mask_phone(need.contact_phone),
                "raised_at": need.raised_at,
                "due_at": need.due_at,
                "overdue": need.overdue,
                "decline_reason": need.decline_reason,
                "merged_into": need.merged_into.number if need.merged_into else None,
                # A volunteer's name is personal data, masked like a resident's.
                "provider_name": (
                    (
                        provider.name
                        if personal or not provider.is_person
                        else mask_name(provider.name)
                    )
                    if provider
                    else None
                ),
                "report": serving.report if serving else "",
                "hours": str(serving.hours) if serving and serving.hours is not None else None,
                "fulfilled_at": need.fulfilled_at,
                "confirmed_at": need.confirmed_at,
                "satisfaction": need.satisfaction,
                "feedback": need.feedback,
                "photos": [
                    {"url": photo.image.url, "stage": photo.stage} for photo in need.photos.all()
                ],
            }
        )
    return records


def service_kinds(user) -> list[dict]:
    """The catalogue of service kinds the phone's need form picks from (#20)."""
    rows = ServiceKind.objects.filter(active=True).order_by("order", "code")
    rows = rows.values("code", "name", "description", "order")
    return [{"id": row["code"], "version": versions.stamp_of(row), **row} for row in rows]
