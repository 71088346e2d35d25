"""The demo's boundary change: the first grid worker has split their grid in two and
submitted it, so the community secretary (`community`) finds one to review and apply."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import LineString, mapping

from boundaries.services import changesets, editing
from grids.models import User
from grids.services.boundaries import to_shapely


@dataclass
class Built:
    change_sets: int


def build(scale=None, progress=None) -> Built:
    worker = User.objects.filter(username="gridworker").select_related("grid").first()
    if worker is None or worker.grid is None:
        return Built(0)
    grid = worker.grid
    x0, y0, x1, y1 = to_shapely(grid.boundary_on()).bounds
    # A north-south line through the middle, from beyond the grid to beyond it.
    middle = (x0 + x1) / 2
    line = LineString([(middle, y0 - 0.001), (middle, y1 + 0.001)])
    change_set = changesets.create(
        user=worker, region=grid.community, title=f"拆分{grid.name}（演示）"
    )
    editing.split(change_set, worker, code=grid.code, line=mapping(line))
    changesets.submit(change_set, worker)
    return Built(1)
