"""What incidents does when grid boundaries change (grids.signals): open incidents in the
changed area re-keyed by their point, open tasks of a retired grid handed to its successor.
Both run inside the boundary change's transaction and return what they moved."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from grids.signals import announce
from incidents import sql
from incidents.models import Incident, Task


def _start(on: dt.date) -> dt.datetime:
    """The first moment of the day the new boundaries start, in the platform's time zone."""
    return timezone.make_aware(dt.datetime.combine(on, dt.time()))


def on_grid_area_changed(sender, area: bytes, on: dt.date, **kwargs) -> dict:
    moved = sql.rekey_open_incidents(area, _start(on))
    if moved:
        announce(Incident)
    return {"incidents": moved}


def on_grids_retired(sender, successors: dict[int, int | None], on: dt.date, **kwargs) -> dict:
    """Open tasks follow their retired grid to its successor, and so does an open incident
    still keyed to a retired grid (one whose point lies outside the changed area). With no
    successor they stay on the retired grid, for a person to place."""
    tasks = incidents = 0
    for old, new in successors.items():
        if new is None:
            continue
        tasks += Task.objects.open().filter(grid=old).update(grid=new)
        incidents += (
            Incident.objects.open()
            .filter(grid=old)
            .update(
                grid=new,
                reported_grid=Case(
                    When(reported_at__lt=_start(on), then=Coalesce(F("reported_grid"), F("grid"))),
                    default=F("reported_grid"),
                ),
            )
        )
    if incidents:
        announce(Incident)
    if tasks:
        announce(Task)
    return {"tasks": tasks, "incidents": incidents}
