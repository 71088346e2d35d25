"""The raw SQL of the grids app, in one place (one module per idea).

Each statement is here because the ORM cannot say it, or says it far slower: set-based tree
integrity checks with buffers in metres (tree), the precomputed figures' stale marks
(figures), bulk loading through COPY (bulk, households, places), and bulk re-assignment
of the points of a changed area (rekey). Values are always passed as parameters, geometries
as EWKB bytes.

Every name stays importable from `grids.sql` for the callers of other apps.
"""

from grids.sql.bulk import _GRID_FOR_POINT, BULK_SETTINGS, COPY_CHUNK, POINTS_TO_GRIDS, copy_frame
from grids.sql.figures import (
    FIGURES_ARE_CURRENT,
    FIGURES_LOCK,
    TAKE_STALE_FIGURES,
    bulk_write,
    figures_are_current,
    lock_figures,
    mark_all_figures_stale,
    take_stale_figures,
)
from grids.sql.households import (
    HOUSEHOLD_INSERT,
    HOUSEHOLD_INSERT_NEW,
    HOUSEHOLD_KEYED,
    HOUSEHOLD_POINT,
    HOUSEHOLD_POINT_INDEX,
    HOUSEHOLD_STAGING,
    HOUSEHOLD_WOULD_INSERT,
    STAGING_COLUMNS,
    copy_households,
    copy_keyed_households,
)
from grids.sql.rekey import (
    GRIDS_IN_FORCE,
    points_in_area,
    reassign_households,
    reassign_places,
    reassign_statement,
    rekeyed,
)
from grids.sql.tree import (
    BOUNDARY_CHANGE_DATES,
    GRIDS_OUTSIDE_COMMUNITY,
    GRIDS_OVERLAPPING,
    REGIONS_OUTSIDE_PARENT,
    REGIONS_OVERLAPPING,
    TREE_LOCK,
    boundary_change_dates,
    grids_outside_community,
    grids_overlapping,
    lock_tree,
    regions_outside_parent,
    regions_overlapping,
)

__all__ = [
    "_GRID_FOR_POINT",
    "BOUNDARY_CHANGE_DATES",
    "BULK_SETTINGS",
    "COPY_CHUNK",
    "FIGURES_ARE_CURRENT",
    "FIGURES_LOCK",
    "GRIDS_IN_FORCE",
    "GRIDS_OUTSIDE_COMMUNITY",
    "GRIDS_OVERLAPPING",
    "HOUSEHOLD_INSERT",
    "HOUSEHOLD_INSERT_NEW",
    "HOUSEHOLD_KEYED",
    "HOUSEHOLD_POINT",
    "HOUSEHOLD_POINT_INDEX",
    "HOUSEHOLD_STAGING",
    "HOUSEHOLD_WOULD_INSERT",
    "POINTS_TO_GRIDS",
    "REGIONS_OUTSIDE_PARENT",
    "REGIONS_OVERLAPPING",
    "STAGING_COLUMNS",
    "TAKE_STALE_FIGURES",
    "TREE_LOCK",
    "boundary_change_dates",
    "bulk_write",
    "copy_frame",
    "copy_households",
    "copy_keyed_households",
    "figures_are_current",
    "grids_outside_community",
    "grids_overlapping",
    "lock_figures",
    "lock_tree",
    "mark_all_figures_stale",
    "points_in_area",
    "reassign_households",
    "reassign_places",
    "reassign_statement",
    "regions_outside_parent",
    "regions_overlapping",
    "rekeyed",
    "take_stale_figures",
]
