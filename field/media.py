"""Photos of completed tasks (field/tasks/<task id>/<uuid>.jpg) are as private as the task:
grids.media serves one to a user who sees the task and whose completion lists it."""

from __future__ import annotations

from field.models import TaskCompletion
from grids import media
from incidents.models import Task

FOLDER = "field"


def may_see_photo(user, name: str) -> bool:
    return TaskCompletion.objects.filter(
        task__in=Task.objects.visible_to(user), photos__contains=[name]
    ).exists()


def register() -> None:
    """Called from FieldConfig.ready()."""
    media.register(FOLDER, may_see_photo)
