"""Helpers of the apply, impact and past-date tests: change sets written as items directly
(the state the editor leaves), approved, on the `tree` of conftest.

Community (1, 1) is lon 105.90-105.95, lat 29.30-29.35: its west grid WEST is 105.90-105.925,
its east grid EAST 105.925-105.95."""

from __future__ import annotations

import shapely
from django.contrib.gis.geos import Point
from shapely.geometry import MultiPolygon, box

from boundaries.models import ChangeSet, ChangeSetItem, Status
from grids.models import Grid
from grids.services.boundaries import to_geos

WEST, EAST = "500118001001001", "500118001001002"
Y0, Y1 = 29.30, 29.35
MID_Y = 29.325


def multi(geom) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def strip(x0: float, x1: float):
    """A strip of community (1, 1) from lon x0 to x1, its full height."""
    return box(x0, Y0, x1, Y1)


def at(x: float, y: float = MID_Y) -> Point:
    return Point(x, y, srid=4326)


def item(change_set: ChangeSet, code: str, geom=None, *, name: str | None = None):
    """The proposed state of grid `code` (an existing grid, or a new one when no grid has
    the code); geom None retires it."""
    grid = Grid.objects.filter(code=code).first()
    community = grid.community if grid else change_set.region
    return ChangeSetItem.objects.create(
        change_set=change_set,
        grid=grid,
        base_version=grid.version if grid else None,
        community=community,
        code=code,
        name=name or (grid.name if grid else f"网格{code[-3:]}"),
        geom=to_geos(multi(shapely.set_precision(geom, 1e-8))) if geom is not None else None,
    )


def approve(change_set: ChangeSet, by=None) -> ChangeSet:
    change_set.status = Status.APPROVED
    change_set.reviewed_by = by
    change_set.save(update_fields=["status", "reviewed_by"])
    return change_set
