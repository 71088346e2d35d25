"""The proposed state of a change set: every governance grid of its region as it would be
after the apply, from the grids' current boundaries and the change set's items."""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from boundaries.models import ChangeSet, ChangeSetItem
from grids.models import Grid, GridBoundary, Level, Region, Theme
from grids.services.boundaries import to_shapely


@dataclass
class ProposedGrid:
    """One grid of the region after the change: `action` is "unchanged", "reshape", "new"
    or "retire" (geom None); `current` is its boundary today (None for a new grid)."""

    code: str
    name: str
    community_id: int
    grid_id: int | None
    version: int | None
    base_version: int | None
    geom: shapely.Geometry | None
    current: shapely.Geometry | None
    action: str

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


def communities_of(change_set: ChangeSet) -> list[Region]:
    """The communities a change set may redraw: its region, or every community of its
    street."""
    region = change_set.region
    if region.level == Level.COMMUNITY:
        return [region]
    return list(
        Region.objects.current().filter(parent=region, level=Level.COMMUNITY).order_by("code")
    )


def current_grids(community_ids: list[int]):
    """The current governance grids of these communities."""
    return Grid.objects.current().filter(community__in=community_ids, theme=Theme.GOVERNANCE)


def proposed(change_set: ChangeSet) -> list[ProposedGrid]:
    """Every grid of the change set's region as proposed, ordered by code."""
    community_ids = [c.pk for c in communities_of(change_set)]
    grids = {g.pk: g for g in current_grids(community_ids)}
    boundaries = {
        b.grid_id: to_shapely(b.geom)
        for b in GridBoundary.objects.current().filter(grid__in=list(grids))
    }
    items: dict[int | None, list[ChangeSetItem]] = {}
    for item in change_set.items.all():
        items.setdefault(item.grid_id, []).append(item)
    result: list[ProposedGrid] = []
    for pk, grid in grids.items():
        item = (items.get(pk) or [None])[0]
        current = boundaries.get(pk)
        if item is None:
            result.append(
                ProposedGrid(
                    grid.code,
                    grid.name,
                    grid.community_id,
                    pk,
                    grid.version,
                    None,
                    current,
                    current,
                    "unchanged",
                )
            )
        else:
            geom = to_shapely(item.geom) if item.geom is not None else None
            result.append(
                ProposedGrid(
                    item.code,
                    item.name,
                    item.community_id,
                    pk,
                    grid.version,
                    item.base_version,
                    geom,
                    current,
                    "retire" if geom is None else "reshape",
                )
            )
    for item in items.get(None, []):
        result.append(
            ProposedGrid(
                item.code,
                item.name,
                item.community_id,
                None,
                None,
                None,
                to_shapely(item.geom),
                None,
                "new",
            )
        )
    result.sort(key=lambda p: p.code)
    return result
