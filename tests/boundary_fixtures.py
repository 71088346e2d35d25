"""Fixtures for boundary change sets (issue #7), on the `tree` of conftest: community (1, 1)
is lon 105.90-105.95, lat 29.30-29.35, with grid 500118001001001 (west half) and
500118001001002 (east half)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import shapely
from django.utils import timezone
from shapely.geometry import LineString, box, mapping

from boundaries.models import ChangeSet
from boundaries.services import changesets
from boundaries.services.geometry import area_m2, difference, intersection, union_all
from boundaries.services.state import proposed
from grids.services.boundaries import to_shapely

C11 = (105.90, 29.30, 105.95, 29.35)
WEST, EAST = "500118001001001", "500118001001002"
# The west grid of community (1, 2), north of WEST: another community.
NORTH_WEST = "500118001002001"


def geojson(geom) -> dict:
    """A shapely geometry (or anything shapely.geometry.shape takes) as a GeoJSON dict."""
    if isinstance(geom, dict):
        return geom
    return mapping(geom)


def west_grown(dx: float = 0.005):
    """The west grid of community (1, 1) pushed east by dx degrees into its neighbour."""
    return box(105.90, 29.30, 105.925 + dx, 29.35)


def line(*points) -> dict:
    return geojson(LineString(points))


def proposed_geoms(change_set: ChangeSet) -> dict[str, shapely.Geometry | None]:
    """Every grid of the change set's region as proposed, by code (None: retired)."""
    return {grid.code: grid.geom for grid in proposed(change_set)}


def coverage(change_set: ChangeSet, community) -> dict[str, float]:
    """How well the proposed grids of a community tile it, in m²: `gap` (ground in no
    grid), `overlap` (ground in two grids) and `outside` (grid ground outside it)."""
    geoms = [g.geom for g in proposed(change_set) if g.community_id == community.pk and g.geom]
    ground = to_shapely(community.boundary_on())
    union = union_all(geoms)
    return {
        "gap": area_m2(difference(ground, union)),
        "overlap": sum(area_m2(intersection(a, b)) for a, b in itertools.combinations(geoms, 2)),
        "outside": area_m2(difference(union, ground)),
    }


def expire(change_set: ChangeSet) -> ChangeSet:
    """The author's lock ran out an hour ago."""
    change_set.lock_expires_at = timezone.now() - dt.timedelta(hours=1)
    change_set.save(update_fields=["lock_expires_at"])
    return change_set


@pytest.fixture
def draft(tree, users) -> ChangeSet:
    """A draft change set of community (1, 1), by the grid worker of its west grid."""
    return changesets.create(
        user=users.worker, region=tree.communities[(1, 1)], title="调整网格边界"
    )


@pytest.fixture
def rival(tree, users) -> ChangeSet:
    """Another draft of community (1, 1), by its community staff."""
    return changesets.create(
        user=users.community, region=tree.communities[(1, 1)], title="社区重划"
    )


__all__ = [
    "C11",
    "EAST",
    "NORTH_WEST",
    "WEST",
    "box",
    "coverage",
    "draft",
    "expire",
    "geojson",
    "line",
    "proposed_geoms",
    "rival",
    "shapely",
    "west_grown",
]
