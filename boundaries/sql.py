"""The raw SQL of the boundaries app, in one place.

The impact preview counts, for every kind of row keyed to grids (grids.keyed), what a change
set would move, one statement per kind: the ORM cannot join rows to a temporary table of
proposed boundaries by an index-assisted ST_Intersects, nor group by a correlated sub-select.
Values are passed as parameters, geometries as EWKB bytes; table and column names come from
the registry (code), never from input.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from grids.keyed import KeyedPoints, KeyedToGrid

# The proposed boundaries of the region's grids, for the life of the preview's transaction.
PROPOSED_TABLE = """
CREATE TEMP TABLE boundary_proposed (
    code text NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL
) ON COMMIT DROP
"""
# One statement for all of them (arrays of codes and EWKB), however many grids a street has.
PROPOSED_INSERT = """
INSERT INTO boundary_proposed (code, geom)
SELECT code, ST_GeomFromEWKB(geom) FROM unnest(%s::text[], %s::bytea[]) AS p(code, geom)
"""
PROPOSED_INDEX = "CREATE INDEX ON boundary_proposed USING gist (geom)"

# The rows of one kind inside the changed area (the GiST index on their location), each
# with its stored grid and the proposed grid its point would fall in by the keying rule of
# grids.sql._GRID_FOR_POINT (the smallest code on a shared edge), counted per pair.
_POINTS_MOVING = """
WITH candidate AS (
    SELECT t.{grid} AS old_grid, ({weight}) AS weight, (
        SELECT p.code FROM boundary_proposed p
        WHERE ST_Intersects(p.geom, t.{location}) ORDER BY p.code LIMIT 1
    ) AS new_code
    FROM {table} t
    WHERE ST_Intersects(t.{location}, ST_GeomFromEWKB(%(area)s)) AND ({where})
)
SELECT c.old_grid, g.code, c.new_code, sum(c.weight)::bigint
FROM candidate c LEFT JOIN grids_grid g ON g.id = c.old_grid
WHERE g.code IS DISTINCT FROM c.new_code
GROUP BY c.old_grid, g.code, c.new_code
"""

# Rows that follow their grid: those of the grids being retired.
_FOLLOWING = """
SELECT t.{grid}, count(*) FROM {table} t
WHERE t.{grid} = ANY(%(grids)s) AND ({where})
GROUP BY t.{grid}
"""


def create_proposed(grids: Iterable[tuple[str, bytes]]) -> None:
    """The temporary table of proposed boundaries: (code, EWKB of a MultiPolygon)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS boundary_proposed")
        cursor.execute(PROPOSED_TABLE)
        rows = list(grids)
        cursor.execute(PROPOSED_INSERT, [[code for code, _g in rows], [g for _c, g in rows]])
        cursor.execute(PROPOSED_INDEX)
        cursor.execute("ANALYZE boundary_proposed")


def drop_proposed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS boundary_proposed")


def points_moving(keyed: KeyedPoints, area_ewkb: bytes) -> list[tuple]:
    """(old grid id or None, its code, new grid code or None, count) per pair that differs."""
    statement = _POINTS_MOVING.format(
        grid=keyed.grid,
        location=keyed.location,
        weight=keyed.weight,
        table=keyed.table,
        where=keyed.where,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, {"area": area_ewkb})
        return cursor.fetchall()


def following(keyed: KeyedToGrid, grid_ids: list[int]) -> dict[int, int]:
    """{retired grid id: rows that follow it}."""
    if not grid_ids:
        return {}
    statement = _FOLLOWING.format(grid=keyed.grid, table=keyed.table, where=keyed.where)
    with connection.cursor() as cursor:
        cursor.execute(statement, {"grids": grid_ids})
        return dict(cursor.fetchall())
