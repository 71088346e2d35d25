"""The boundary history of a grid, and going back to an earlier version: a restore is a new
change set (kind restore) reshaping the grid to that boundary, with its neighbours adjusted,
validated, approved and applied like any other, so that nothing is rewritten in place."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from boundaries.models import ChangeSet, Kind, Status
from boundaries.services import changesets, editing, geometry
from boundaries.services.changesets import refuse
from grids.models import Grid, GridBoundary
from grids.services.boundaries import to_shapely


def history(grid: Grid) -> list[dict]:
    """Every boundary version of the grid, newest first: its dates, the reason written with
    it, the change set that made it (when it was one) and its area in square metres."""
    # A version closed on the day it opened (a change and its restore applied the same
    # day) was valid on no day, but it was applied: it stays in the history.
    versions = list(GridBoundary.objects.filter(grid=grid).order_by("-valid_from", "-id"))
    made_by: dict[int, int] = {}
    applied = ChangeSet.objects.filter(status=Status.APPLIED, items__code=grid.code).distinct()
    for change_set_id, summary in applied.values_list("pk", "applied_summary"):
        version_id = (summary or {}).get("versions", {}).get(grid.code)
        if version_id is not None:
            made_by[version_id] = change_set_id
    result = []
    for version in versions:
        shape = to_shapely(version.geom)
        result.append(
            {
                "id": version.pk,
                "valid_from": version.valid_from,
                "valid_to": version.valid_to,
                "reason": version.reason,
                "current": version.valid_to is None and grid.valid_to is None,
                "area_m2": round(geometry.area_m2(shape), 1),
                "change_set": made_by.get(version.pk),
                "geometry": geometry.to_geojson(shape),
            }
        )
    return result


@transaction.atomic
def restore(*, user, version: GridBoundary) -> ChangeSet:
    """A new change set of the grid's community that reshapes the grid back to `version`,
    taking the ground from (and giving it back to) its siblings as a drawn reshape does. Like
    any change set it must be validated, approved by another person and applied."""
    grid = version.grid
    if grid.valid_to is not None:
        raise refuse(
            "grid_retired",
            _("grid %(code)s was retired on %(day)s: a retired grid cannot be restored")
            % {"code": grid.code, "day": grid.valid_to},
            status=409,
            field="version",
        )
    if version.valid_to is None:
        raise refuse(
            "nothing_to_restore",
            _("this is the current boundary of grid %(code)s") % {"code": grid.code},
            status=400,
            field="version",
        )
    change_set = changesets.create(
        user=user,
        region=grid.community,
        title=_("Restore grid %(code)s to its boundary of %(from)s")
        % {
            "code": grid.code,
            "from": version.valid_from,
        },
        kind=Kind.RESTORE,
    )
    editing.reshape(
        change_set,
        user,
        code=grid.code,
        geom=geometry.to_geojson(to_shapely(version.geom)),
        adjust_neighbours=True,
    )
    return ChangeSet.objects.get(pk=change_set.pk)
