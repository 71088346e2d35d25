"""Tasks and visits from the phone: a household visit (走访) recorded by the incidents app's
service (the location check, the tasks it ticks off), and a task completed with the evidence
its kind asks for:
- a visit task: every household it names visited (else 400 `task_targets_unvisited`, naming
  them);
- a patrol task: a patrol of the worker's (`patrol_client_key`, saved before it in the
  outbox's order);
- any other task: a note or a photo.
The completion's time is the server's; its photos are stored under `field/tasks/<id>/`,
served to those who see the task (field.media)."""

from __future__ import annotations

import uuid

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from field.models import Patrol, TaskCompletion
from field.services.kinds import records
from field.services.kinds.base import (
    Applied,
    Conflict,
    Context,
    kind,
    locked,
    point,
    refused,
    target_id,
    text,
    whole_number,
)
from incidents.models import Task, TaskKind, TaskTarget
from incidents.services import tasks
from incidents.services.reporting import check_photos

PHOTO_FOLDER = "field/tasks"


@kind("visit.record")
def visit(ctx: Context) -> Applied:
    data = ctx.data
    household_id = whole_number(data.get("household_id"), "household_id")
    location = point(data)
    # The visit's time is the server's (server time wins; the phone's is on the receipt).
    found, _created = tasks.record_visit(
        household_id,
        location,
        user=ctx.user,
        note=text(data, "note"),
        client_key=ctx.client_key,
    )
    return Applied(records.one("visits", found.pk, ctx.user), "visits", found.pk)


def _patrol(ctx: Context) -> Patrol | None:
    key = ctx.data.get("patrol_client_key")
    if key in (None, ""):
        return None
    patrol = Patrol.objects.filter(
        client_key=records.uuid_of(key, "patrol_client_key"), worker=ctx.user
    ).first()
    if patrol is None:
        raise refused(
            "unknown_patrol",
            _("no patrol of yours with this key has reached the server"),
            "patrol_client_key",
        )
    return patrol


def _unvisited(task: Task) -> None:
    missing = list(
        TaskTarget.objects.filter(task=task, visit__isnull=True)
        .order_by("household_id")
        .values_list("household_id", "household__address")[:20]
    )
    if missing:
        names = "、".join(f"{address} ({pk})" for pk, address in missing)
        raise refused(
            "task_targets_unvisited",
            _("visit every household of the task first; not yet visited: %(names)s")
            % {"names": names},
            "targets",
        )


def _store_photos(task: Task, photos: list) -> list[str]:
    names = []
    for photo in check_photos(photos):
        name = f"{PHOTO_FOLDER}/{task.pk}/{uuid.uuid4().hex}.{photo.extension}"
        names.append(default_storage.save(name, File(photo.file)))
    return names


@kind("task.complete", photos=True)
def complete(ctx: Context) -> Applied:
    pk = target_id(ctx)
    note = text(ctx.data, "note")
    patrol = _patrol(ctx)
    task = locked(Task.objects.visible_to(ctx.user), pk, "task")
    if task.assignee_id not in (None, ctx.user.pk):
        raise refused("not_yours", _("this task was given to another worker"), "target", status=403)
    if TaskCompletion.objects.filter(task=task).exists():
        # Someone (another phone of the grid's team) completed it first.
        current = records.one("tasks", pk, ctx.user)
        raise Conflict(
            current,
            str(current.get("version", "")),
            "tasks",
            _("this task was completed by someone else in the meantime"),
        )
    if task.kind == TaskKind.VISIT:
        _unvisited(task)
    elif task.kind == TaskKind.PATROL and patrol is None:
        raise refused(
            "patrol_required",
            _("a patrol task is completed with a patrol: record one and choose it"),
            "patrol_client_key",
        )
    elif task.kind not in (TaskKind.VISIT, TaskKind.PATROL) and not (note or ctx.photos):
        raise refused("evidence_required", _("say what was done, or add a photo"), "note")
    TaskCompletion.objects.create(
        task=task,
        by=ctx.user,
        note=note,
        patrol=patrol,
        photos=_store_photos(task, ctx.photos),
        completed_at=ctx.now,
    )
    if task.done_at is None:
        task.done_at = ctx.now
        task.save(update_fields=["done_at"])
    return Applied(records.one("tasks", pk, ctx.user), "tasks", pk)
