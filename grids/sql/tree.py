"""Raw SQL of the tree: set-based integrity checks of regions and grids (buffers in metres,
which the ORM cannot say), the tree lock, and the dates on which the tree changes shape."""

from __future__ import annotations

import datetime as dt

from django.db import connection

# Versions of the tree valid on a date; used by the integrity checks below.
_VALID = "{t}.valid_from <= %(on)s AND ({t}.valid_to IS NULL OR {t}.valid_to > %(on)s)"

# A child may stick out of its parent by the tolerance: the parent is widened in metres
# (geography buffer), once per parent, and ST_CoveredBy checks the child against it. A child
# whose parent has no boundary on the date is reported too. One template for regions and
# grids; only table and column names (never input) are filled in.
_OUTSIDE_PARENT = f"""
WITH child AS (
    SELECT c.id, c.code, c.{{parent}} AS parent_id, b.geom
    FROM {{table}} c JOIN {{versions}} b ON b.{{owner}} = c.id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="c")}) AND c.{{parent}} IS NOT NULL
      AND (c.id = ANY(%(ids)s) OR c.{{parent}} = ANY(%(parent_ids)s))
), parent AS (
    SELECT b.region_id AS id, b.geom,
           ST_Buffer(b.geom::geography, %(tol)s)::geometry AS widened
    FROM grids_regionboundary b JOIN grids_region p ON p.id = b.region_id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="p")})
      AND b.region_id IN (SELECT parent_id FROM child)
)
SELECT c.code, (SELECT code FROM grids_region WHERE id = c.parent_id),
       ST_X(ST_PointOnSurface(ST_Difference(c.geom, p.geom))),
       ST_Y(ST_PointOnSurface(ST_Difference(c.geom, p.geom))),
       p.id IS NULL
FROM child c LEFT JOIN parent p ON p.id = c.parent_id
WHERE p.id IS NULL OR NOT ST_CoveredBy(c.geom, p.widened)
"""
REGIONS_OUTSIDE_PARENT = _OUTSIDE_PARENT.format(
    table="grids_region", versions="grids_regionboundary", owner="region_id", parent="parent_id"
)
GRIDS_OUTSIDE_COMMUNITY = _OUTSIDE_PARENT.format(
    table="grids_grid", versions="grids_gridboundary", owner="grid_id", parent="community_id"
)

# Siblings that share an edge only touch; the checked boundary is shrunk by the tolerance in
# metres (negative geography buffer) so that only overlaps deeper than that are reported.
_OVERLAPPING = f"""
WITH node AS (
    SELECT n.id, n.code, {{sibling_columns}}, b.geom
    FROM {{table}} n JOIN {{versions}} b ON b.{{owner}} = n.id
    WHERE ({_VALID.format(t="b")}) AND ({_VALID.format(t="n")})
), shrunk AS (
    SELECT id, ST_Buffer(geom::geography, -%(tol)s)::geometry AS geom
    FROM node WHERE id = ANY(%(ids)s)
)
SELECT a.code, o.code,
       ST_X(ST_PointOnSurface(ST_Intersection(s.geom, o.geom))),
       ST_Y(ST_PointOnSurface(ST_Intersection(s.geom, o.geom)))
FROM shrunk s
JOIN node a ON a.id = s.id
JOIN node o ON o.id <> a.id AND {{siblings}} AND ST_Intersects(s.geom, o.geom)
WHERE NOT ST_IsEmpty(s.geom)
"""
# Siblings: regions of one level under one parent (districts have none); grids of one theme
# in one community.
REGIONS_OVERLAPPING = _OVERLAPPING.format(
    table="grids_region",
    versions="grids_regionboundary",
    owner="region_id",
    sibling_columns="n.parent_id, n.level",
    siblings="o.level = a.level AND o.parent_id IS NOT DISTINCT FROM a.parent_id",
)
GRIDS_OVERLAPPING = _OVERLAPPING.format(
    table="grids_grid",
    versions="grids_gridboundary",
    owner="grid_id",
    sibling_columns="n.community_id, n.theme",
    siblings="o.community_id = a.community_id AND o.theme = a.theme",
)


# One advisory lock orders tree changes against household writes (decision 7): a boundary
# change holds it exclusively while it re-keys, a household write holds it shared from its
# grid lookup to its commit. Without it a household keyed under the old boundaries could
# commit after the re-keying and stay in the wrong grid for good, and two neighbours
# redrawn at once could each pass the overlap check against the other's old edge.
TREE_LOCK = 2260_0001


def lock_tree(*, shared: bool) -> None:
    """Take the tree lock for the rest of the current transaction."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [TREE_LOCK])


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


BOUNDARY_CHANGE_DATES = """
SELECT d FROM (
    SELECT valid_from AS d FROM grids_regionboundary
    UNION SELECT valid_to FROM grids_regionboundary
    UNION SELECT valid_from FROM grids_gridboundary
    UNION SELECT valid_to FROM grids_gridboundary
) dates
WHERE d > %(start)s AND d <= %(end)s
ORDER BY d
"""


def boundary_change_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date after `start` up to `end` on which some boundary version starts or ends:
    the tree can only change shape on those days."""
    return [row[0] for row in _rows(BOUNDARY_CHANGE_DATES, {"start": start, "end": end})]


def regions_outside_parent(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(REGIONS_OUTSIDE_PARENT, {"ids": ids, "parent_ids": ids, "on": on, "tol": tol_m})


def grids_outside_community(
    ids: list[int], region_ids: list[int], on: dt.date, tol_m: float
) -> list[tuple]:
    return _rows(
        GRIDS_OUTSIDE_COMMUNITY, {"ids": ids, "parent_ids": region_ids, "on": on, "tol": tol_m}
    )


def regions_overlapping(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(REGIONS_OVERLAPPING, {"ids": ids, "on": on, "tol": tol_m})


def grids_overlapping(ids: list[int], on: dt.date, tol_m: float) -> list[tuple]:
    return _rows(GRIDS_OVERLAPPING, {"ids": ids, "on": on, "tol": tol_m})
