"""Re-keying the points of a changed area to the grids in force, as one join per boundary:
shared by the apply (grids' own places here: households, buildings, units, standard
addresses; sensors and open incidents in their apps) and the impact preview (boundaries.sql)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.db import connection

from grids.keyed import HOUSEHOLDS, PLACES, KeyedPoints

# --- re-keying the points of a changed area ---------------------------------------------------
#
# A boundary change re-keys only the rows that lie where a boundary changed (decision 2), by
# the rule of _GRID_FOR_POINT. Asked per point (a correlated sub-select), PostGIS meets a
# different polygon on every row and cannot reuse a prepared geometry (~0.7 ms a point). So
# the rows in the area are staged, indexed, and keyed as one join from each boundary that
# reaches the area to the points it holds, as POINTS_TO_GRIDS does: one index scan per
# boundary, its prepared geometry reused for all of its points. The apply (grids' places here,
# sensors and open incidents in their apps) and the impact preview (boundaries.sql, on the
# proposed boundaries) share these statements, so the preview counts what the apply moves.

# The governance grids in force, (grid_id, code, geom): after the apply has written its
# versions, the grids the points are keyed to.
GRIDS_IN_FORCE = """
    SELECT g.id AS grid_id, g.code, b.geom
    FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
"""

# One SELECT per kind of row (grids.keyed.KeyedPoints); the kinds staged together are
# told apart by `kind`. keep_m: the distance within which a row keeps its stored grid.
_STAGED_KIND = """
SELECT %(kind_{i})s::text AS kind, t.id AS row, t.{grid} AS old_grid,
       ({weight})::bigint AS weight, %(keep_{i})s::float8 AS keep_m, t.{location} AS geom
FROM {table} t
WHERE ST_Intersects(t.{location}, ST_GeomFromEWKB(%(area)s)) AND ({where})
"""

# In the order of PostGIS's space-filling curve, as HOUSEHOLD_POINT: each boundary's index
# scan reads neighbouring pages.
_STAGE_POINTS = """
CREATE TEMP TABLE {points} ON COMMIT DROP AS
SELECT * FROM ({kinds}) staged ORDER BY geom
"""

# No parameters: one round trip.
_INDEX_POINTS = "CREATE INDEX ON {points} USING gist (geom); ANALYZE {points}"

# Every staged row with the grid it belongs to by the rule of _GRID_FOR_POINT among
# `{grids}` (a relation (grid_id, code, geom) of the grids in force: GRIDS_IN_FORCE, or the
# preview's proposed ones): new_grid and new_code, None for a point in no grid. A row with a
# keep_m that is still within keep_m metres of its stored grid keeps it (open incidents: near
# an edge the reporter confirmed the grid); a stored grid no longer in force is not kept.
# Only boundaries whose box reaches the area are joined (the GiST index on boundaries).
_REKEYED = """
    SELECT p.*,
           CASE WHEN kept.row IS NULL THEN k.grid_id ELSE p.old_grid END AS new_grid,
           CASE WHEN kept.row IS NULL THEN k.code ELSE kept.code END AS new_code
    FROM {points} p
    LEFT JOIN (
        SELECT DISTINCT ON (p.kind, p.row) p.kind, p.row, b.grid_id, b.code
        FROM ({grids}) b JOIN {points} p ON ST_Intersects(b.geom, p.geom)
        WHERE b.geom && ST_GeomFromEWKB(%(area)s)
        ORDER BY p.kind, p.row, b.code
    ) k ON k.kind = p.kind AND k.row = p.row
    LEFT JOIN (
        SELECT p.kind, p.row, b.code
        FROM {points} p JOIN ({grids}) b ON b.grid_id = p.old_grid
        WHERE p.keep_m IS NOT NULL
          AND ST_DWithin(b.geom::geography, p.geom::geography, p.keep_m)
    ) kept ON kept.kind = p.kind AND kept.row = p.row
"""


def rekeyed(points: str, grids: str = GRIDS_IN_FORCE) -> str:
    """SQL of a subquery: the rows staged in `points` (kind, row, old_grid, weight, keep_m,
    geom) with new_grid and new_code. Its parameter is %(area)s, the changed area as EWKB;
    `grids` may add its own."""
    return _REKEYED.format(points=points, grids=grids)


@contextmanager
def points_in_area(points: str, kinds: list, area_ewkb: bytes, params: dict | None = None):
    """Within: the temporary table `points` holds the rows of every kind (grids.keyed.
    KeyedPoints) that lie in the area, indexed, for `rekeyed(points)`. `params` fills the
    kinds' conditions (e.g. a date). Dropped on the way out; after an error the rollback
    of the caller's transaction takes it. `points` is a name from code, never input."""
    values = {"area": area_ewkb, **(params or {})}
    selects = []
    for i, kind in enumerate(kinds):
        selects.append(
            _STAGED_KIND.format(
                i=i,
                grid=kind.grid,
                weight=kind.weight,
                location=kind.location,
                table=kind.table,
                where=kind.where,
            )
        )
        values[f"kind_{i}"] = kind.key
        values[f"keep_{i}"] = kind.keep_within_m()
    with connection.cursor() as cursor:
        cursor.execute(
            _STAGE_POINTS.format(points=points, kinds="\nUNION ALL\n".join(selects)), values
        )
        cursor.execute(_INDEX_POINTS.format(points=points))
        yield
        cursor.execute(f"DROP TABLE {points}")


# The rows of every kind that change grid, keyed once (one spatial join for all kinds staged
# together); each kind is then written from it.
_MOVED = """
CREATE TEMP TABLE {moved} ON COMMIT DROP AS
SELECT k.kind, k.row, k.old_grid, k.new_grid
FROM ({rekeyed}) k
WHERE k.old_grid IS DISTINCT FROM k.new_grid
"""

# The grid each moved row leaves is kept in its kind's history (grids.keyed.History), so that
# figures for earlier dates do not move. The history is written from the UPDATE's RETURNING:
# the moved rows' start dates come with the rows written anyway, not from a second read of
# the table.
_REASSIGN = """
WITH updated AS (
    UPDATE {table} t SET {grid} = m.new_grid{touch}
    FROM {moved} m WHERE m.kind = %(kind)s AND t.id = m.row
    RETURNING t.id, m.old_grid{start}
){history}
SELECT count(*) FROM updated
"""

_HISTORY = """, history AS (
    INSERT INTO {table} ({key}, grid_id, valid_from, valid_to)
    SELECT u.id, u.old_grid,
           COALESCE((SELECT max(x.valid_to) FROM {table} x WHERE x.{key} = u.id), u.start),
           %(on)s
    FROM updated u
    WHERE %(on)s > COALESCE((SELECT max(x.valid_to) FROM {table} x WHERE x.{key} = u.id),
                            u.start)
)"""


def reassign_statement(kind: KeyedPoints, moved: str) -> str:
    """The statement re-keying the rows of `kind` listed in the temporary table `moved`
    (kind, row, old_grid, new_grid) and writing its history, generated from the kind's
    declared table, grid column and History. Parameters: kind (the kind's key), on."""
    history = kind.history
    return _REASSIGN.format(
        moved=moved,
        table=kind.table,
        grid=kind.grid,
        touch=f", {kind.touched} = now()" if kind.touched else "",
        start=f", t.{history.start} AS start" if history else "",
        history=_HISTORY.format(table=history.table, key=history.key) if history else "",
    )


def reassign_places(area_ewkb: bytes, on: dt.date, kinds=PLACES) -> dict[str, int]:
    """Re-key grids' own kinds in the changed area (households, buildings, units, standard
    addresses; after the new versions are written): how many moved, per kind."""
    params = {"area": area_ewkb, "on": on}
    moved = {}
    with (
        points_in_area("place_rekey", list(kinds), area_ewkb, params),
        connection.cursor() as cursor,
    ):
        cursor.execute("DROP TABLE IF EXISTS place_moved")
        cursor.execute(_MOVED.format(moved="place_moved", rekeyed=rekeyed("place_rekey")), params)
        for kind in kinds:
            cursor.execute(reassign_statement(kind, "place_moved"), {**params, "kind": kind.key})
            moved[kind.key] = cursor.fetchone()[0]
        cursor.execute("DROP TABLE place_moved")
    return moved


def reassign_households(area_ewkb: bytes, on: dt.date) -> int:
    """Re-key the households in the changed area (after the new versions are written);
    how many moved."""
    return reassign_places(area_ewkb, on, kinds=(HOUSEHOLDS,))["households"]
