"""Points keyed to their grids in Python, for bulk loads: the rule of grids.sql.bulk's
POINTS_TO_GRIDS (the governance grid whose current boundary intersects the point, the
smallest code first on a shared edge) applied with a shapely STRtree over the current
boundaries, so that a million households can be COPied straight into their table instead of
being staged and keyed by a join in the database. The caller holds the tree lock (shared)
for its transaction, so the boundaries read here are the ones the rows are written under."""

from __future__ import annotations

import numpy as np
import shapely

from grids.models import GridBoundary, Theme

NO_GRID = 0  # grid ids are positive


def grids_of_points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The grid id of each point (NO_GRID where it lies in no current governance grid)."""
    boundaries = list(
        GridBoundary.objects.current()
        .filter(grid__valid_to__isnull=True, grid__theme=Theme.GOVERNANCE)
        # The database sorts the codes (its collation), so "smallest code" means what it
        # means in the SQL rule; a boundary's position below is its code's rank.
        .order_by("grid__code", "grid_id")
        .values_list("grid_id", "geom")
    )
    keyed = np.full(len(lon), NO_GRID, dtype=np.int64)
    if not boundaries or not len(lon):
        return keyed
    ids = np.array([grid_id for grid_id, _geom in boundaries], dtype=np.int64)
    shapes = shapely.from_wkb([bytes(geom.wkb) for _grid_id, geom in boundaries])
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(shapes)
    # Pairs (point, boundary) that intersect; a boundary edge counts, as in ST_Intersects.
    point_at, shape_at = tree.query(points, predicate="intersects")
    if not len(point_at):
        return keyed
    # Per point, the boundary with the smallest rank (= smallest code).
    rank = np.full(len(lon), len(ids), dtype=np.int64)
    np.minimum.at(rank, point_at, shape_at)
    found = rank < len(ids)
    keyed[found] = ids[rank[found]]
    return keyed
