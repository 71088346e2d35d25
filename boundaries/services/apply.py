"""Applying an approved change set: the proposed boundaries become the grids' new versions
from the change set's day, in one transaction with everything keyed to the grids.

Old versions are closed and new ones opened (never rewritten, so any past day can still be
asked for), new grids are created and retired grids closed; only the points inside the
changed area are re-keyed: households here (with their history), sensors and open incidents
by their apps (grids.signals.grid_area_changed); open tasks and grid staff of a retired grid
go to its successor (grids.signals.grids_retired). A failure anywhere rolls all of it back
and the change set stays approved."""

from __future__ import annotations

import shapely
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from boundaries.models import ChangeSet, ChangeSetEvent, ChangeSetItem, Status
from boundaries.services import changesets, geometry
from boundaries.services.changesets import Refused, refuse
from boundaries.services.impact import changed_area, ewkb, preview, successors
from boundaries.services.state import ProposedGrid, proposed
from grids import sql as grids_sql
from grids.models import Grid, GridBoundary, today
from grids.problems import Problem
from grids.services.boundaries import (
    future_date_problem,
    hand_over_staff,
    integrity_problems,
    rekey_area,
    to_geos,
)
from grids.signals import announce, grids_retired


def version_reason(change_set: ChangeSet) -> str:
    """The reason written on the versions a change set opens and closes (GridBoundary.reason):
    data, not a message, so it is not translated."""
    return f"#{change_set.pk} {change_set.title}"[:200]


def _check(change_set: ChangeSet, user, grids: list[ProposedGrid]) -> None:
    if changesets.is_author(user, change_set):
        raise refuse(
            "own_change_set",
            _("the author of a change set may not apply it: another person must"),
            status=403,
        )
    if not changesets.can_review(user, change_set):
        raise refuse("not_reviewer", _("you may not apply change sets of this region"), status=403)
    if change_set.status != Status.APPROVED:
        raise refuse(
            "not_approved",
            _("the change set is %(status)s: only an approved change set can be applied")
            % {"status": change_set.get_status_display()},
            field="status",
        )
    # Boundaries changed since the approval, or another change set holding a grid: 409.
    changesets.check_current(change_set, grids)


def _dates_problems(grids: list[ProposedGrid], locked: dict[int, Grid], versions, on) -> list:
    problems = []
    if problem := future_date_problem(on):
        problems.append(problem)
    for grid in grids:
        if grid.grid_id is None or not grid.changed:
            continue
        starts = max(
            locked[grid.grid_id].valid_from,
            versions[grid.grid_id].valid_from if grid.grid_id in versions else on,
        )
        if on < starts:
            problems.append(
                Problem(
                    "before_current_version",
                    _("grid %(code)s: its current boundary is valid from %(day)s")
                    % {"code": grid.code, "day": starts},
                    field="valid_from",
                    feature=grid.code,
                )
            )
    return problems


def _add(summary: dict, responses) -> None:
    for _receiver, response in responses:
        if isinstance(response, dict):
            for key, n in response.items():
                summary[key] = summary.get(key, 0) + n


@transaction.atomic
def apply(change_set: ChangeSet, user) -> dict:
    """Apply an approved change set (the reviewer's right, never its author). Returns the
    summary stored on it: what moved, per kind, and the impact table it was applied with."""
    grids_sql.lock_tree(shared=False)
    change_set = changesets.for_update(change_set)
    grids = proposed(change_set)
    _check(change_set, user, grids)
    on = change_set.valid_from or today()
    changed = [g for g in grids if g.changed]
    existing_ids = [g.grid_id for g in changed if g.grid_id is not None]
    locked = {g.pk: g for g in Grid.objects.select_for_update().filter(pk__in=existing_ids)}
    versions = {
        v.grid_id: v
        for v in GridBoundary.objects.select_for_update().filter(
            grid__in=existing_ids, valid_to__isnull=True
        )
    }
    if problems := _dates_problems(grids, locked, versions, on):
        raise Refused(problems, 400)
    impact = preview(change_set, grids)
    heirs = successors(grids)
    area = changed_area(grids)
    reason = version_reason(change_set)

    closed, opened, created = [], [], {}
    for grid in changed:
        if grid.action == "new":
            new = Grid.objects.create(
                code=grid.code, name=grid.name, community_id=grid.community_id, valid_from=on
            )
            created[grid.code] = new
            # The item now names the grid it made: history can tell which change set did.
            ChangeSetItem.objects.filter(change_set=change_set, code=grid.code).update(grid=new)
            opened.append(_version(new, grid.geom, on, reason))
            continue
        row = locked[grid.grid_id]
        row.version += 1
        row.name = grid.name
        current = versions.get(grid.grid_id)
        if grid.action == "retire":
            row.valid_to = on
        elif current is not None and shapely.equals_exact(
            geometry.polygonal(grid.current), geometry.polygonal(grid.geom), 0
        ):
            continue  # renamed only: the boundary stays the same version
        else:
            opened.append(_version(row, grid.geom, on, reason))
        if current is not None:
            current.valid_to = on
            closed.append(current)
    # Closed before the new versions are written: one open version per grid.
    GridBoundary.objects.bulk_update(closed, ["valid_to"])
    Grid.objects.bulk_update(list(locked.values()), ["version", "name", "valid_to"])
    GridBoundary.objects.bulk_create(opened)
    if problems := integrity_problems(grid_ids=[v.grid_id for v in opened], on=on):
        raise Refused(problems, 400)

    moved = {"households": 0} if area.is_empty else rekey_area(ewkb(area), on)
    retired_ids = {g.code: g.grid_id for g in changed if g.action == "retire"}
    handed = {
        retired_ids[code]: (None if heir is None else heir.grid_id or created[heir.code].pk)
        for code, heir in heirs.items()
    }
    if handed:
        moved["staff"] = hand_over_staff(handed)
        _add(moved, grids_retired.send(sender=Grid, successors=handed, on=on))
    announce(Grid)
    announce(GridBoundary)

    summary = {
        "valid_from": on.isoformat(),
        "moved": moved,
        "impact": {"rows": impact["rows"], "totals": impact["totals"]},
        "created": sorted(created),
        "retired": sorted(heirs),
        # Which version each grid got: the history of a grid names its change set by these.
        "versions": {v.grid.code: v.pk for v in opened},
    }
    change_set.status = Status.APPLIED
    change_set.applied_at = timezone.now()
    change_set.applied_by = user
    change_set.applied_summary = summary
    change_set.save(
        update_fields=["status", "applied_at", "applied_by", "applied_summary", "updated_at"]
    )
    ChangeSetEvent.objects.create(change_set=change_set, action="applied", by=user)
    return summary


def _version(grid: Grid, geom, on, reason: str) -> GridBoundary:
    return GridBoundary(
        grid=grid, geom=to_geos(geometry.polygonal(geom)), valid_from=on, reason=reason
    )
