"""The raw SQL of the boundaries app, in one place.

The impact preview counts, for every kind of row keyed to grids (grids.keyed), what a change
set would move, one statement per kind: the ORM cannot join rows to a temporary table of
proposed boundaries by an index-assisted ST_Intersects, nor group by a correlated sub-select.
Values are passed as parameters, geometries as EWKB bytes; table and column names come from
the registry (code), never from input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from grids import sql as grids_sql
from grids.keyed import KeyedPoints, KeyedToGrid

# The region's grids as proposed, for the life of the preview's transaction: grid_id of an
# existing grid (None for a new one), geom None for a grid being retired.
PROPOSED_TABLE = """
CREATE TEMP TABLE boundary_proposed (
    grid_id bigint,
    code text NOT NULL,
    geom geometry(MultiPolygon, 4326)
) ON COMMIT DROP
"""
# One statement for all of them (arrays of ids, codes and EWKB), however many grids a street
# has.
PROPOSED_INSERT = """
INSERT INTO boundary_proposed (grid_id, code, geom)
SELECT grid_id, code, ST_GeomFromEWKB(geom)
FROM unnest(%s::bigint[], %s::text[], %s::bytea[]) AS p(grid_id, code, geom)
"""
PROPOSED_INDEX = "CREATE INDEX ON boundary_proposed USING gist (geom)"

# The governance grids that would be in force after the apply: the region's as proposed, and
# every other grid as it is (a point on a community's edge may go to a neighbour's grid with
# a smaller code, as in the apply).
PROPOSED_IN_FORCE = f"""
    SELECT grid_id, code, geom FROM boundary_proposed WHERE geom IS NOT NULL
    UNION ALL
    SELECT f.* FROM ({grids_sql.GRIDS_IN_FORCE}) f
    WHERE NOT EXISTS (SELECT 1 FROM boundary_proposed p WHERE p.grid_id = f.grid_id)
"""

# The rows of every located kind inside the changed area, keyed to the proposed grids by the
# statement the apply re-keys them with (grids.sql.rekeyed), counted per kind and pair
# (old grid, new grid) that differs.
POINTS_MOVING = f"""
SELECT k.kind, k.old_grid, g.code, k.new_code, sum(k.weight)::bigint
FROM ({grids_sql.rekeyed("boundary_points", PROPOSED_IN_FORCE)}) k
LEFT JOIN grids_grid g ON g.id = k.old_grid
WHERE g.code IS DISTINCT FROM k.new_code
GROUP BY k.kind, k.old_grid, g.code, k.new_code
"""

# Rows that follow their grid: those of the grids being retired.
_FOLLOWING = """
SELECT t.{grid}, count(*) FROM {table} t
WHERE t.{grid} = ANY(%(grids)s) AND ({where})
GROUP BY t.{grid}
"""


def create_proposed(grids: Iterable[tuple[int | None, str, bytes | None]]) -> None:
    """The temporary table of proposed boundaries: (grid id or None for a new grid, code,
    EWKB of a MultiPolygon or None for a retired grid)."""
    rows = list(grids)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS boundary_proposed")
        cursor.execute(PROPOSED_TABLE)
        columns = [list(column) for column in zip(*rows, strict=True)] or [[], [], []]
        cursor.execute(PROPOSED_INSERT, columns)
        cursor.execute(PROPOSED_INDEX)
        cursor.execute("ANALYZE boundary_proposed")


def drop_proposed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS boundary_proposed")


def points_moving(kinds: list[KeyedPoints], area_ewkb: bytes, on: dt.date) -> list[tuple]:
    """(kind key, old grid id or None, its code, new grid code or None, weighted count) per
    pair that differs, for all located kinds at once (one staging of the area's rows), as
    the apply would re-key them on `on`."""
    if not kinds:
        return []
    with (
        grids_sql.points_in_area("boundary_points", kinds, area_ewkb, {"on": on}),
        connection.cursor() as cursor,
    ):
        cursor.execute(POINTS_MOVING, {"area": area_ewkb})
        return cursor.fetchall()


def following(keyed: KeyedToGrid, grid_ids: list[int]) -> dict[int, int]:
    """{retired grid id: rows that follow it}."""
    if not grid_ids:
        return {}
    statement = _FOLLOWING.format(grid=keyed.grid, table=keyed.table, where=keyed.where)
    with connection.cursor() as cursor:
        cursor.execute(statement, {"grids": grid_ids})
        return dict(cursor.fetchall())
