"""Camera coverage of grids: geometry unions per grid and areas on the spheroid, which the ORM
cannot say in one statement for many grids.

A grid's coverage is the part of its current boundary inside the union of the view sectors
of the cameras whose sector meets it (index sensor_coverage_gist); areas are square metres
on the spheroid (geography). One statement computes and upserts every grid asked for.
"""

from __future__ import annotations

from django.db import connection

# Serialises coverage refreshes against camera writes (see mark_stale): a refresh waits for
# camera writes in flight to commit and reads them; a camera written while a refresh runs
# waits for it and marks its grids stale again afterwards. So no mark is ever lost.
COVERAGE_LOCK = 2260_0601

# `grids` NULL: every current grid. ST_MakeValid because sectors drawn around a point can
# touch themselves (a 360° PTZ camera's circle closes on its first vertex) and a union of
# many polygons may come out with slivers that ST_Intersection refuses.
REFRESH = """
WITH grid AS (
    SELECT b.grid_id, b.geom
    FROM grids_gridboundary b JOIN grids_grid g ON g.id = b.grid_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL
      AND (%(grids)s::bigint[] IS NULL OR b.grid_id = ANY(%(grids)s::bigint[]))
), seen AS (
    SELECT grid.grid_id, count(*) AS cameras,
           ST_Union(ST_MakeValid(s.coverage)) AS sectors
    FROM grid JOIN sensors_sensor s
      ON s.role = 'camera' AND s.coverage && grid.geom AND ST_Intersects(s.coverage, grid.geom)
    GROUP BY grid.grid_id
), measured AS (
    SELECT grid.grid_id,
           ST_Area(grid.geom::geography) AS area_m2,
           coalesce(
               ST_Area(ST_Intersection(grid.geom, seen.sectors)::geography), 0
           ) AS covered_m2,
           coalesce(seen.cameras, 0) AS cameras
    FROM grid LEFT JOIN seen ON seen.grid_id = grid.grid_id
)
INSERT INTO sensors_gridcoverage
    (grid_id, area_m2, covered_m2, share, cameras, stale, computed_at)
SELECT grid_id, area_m2, least(covered_m2, area_m2),
       CASE WHEN area_m2 > 0 THEN least(covered_m2 / area_m2, 1) ELSE 0 END,
       cameras, false, now()
FROM measured
ON CONFLICT (grid_id) DO UPDATE SET
    area_m2 = EXCLUDED.area_m2, covered_m2 = EXCLUDED.covered_m2, share = EXCLUDED.share,
    cameras = EXCLUDED.cameras, stale = false, computed_at = EXCLUDED.computed_at
"""

# Grids whose figure is stale, and current grids that have none yet.
STALE_GRIDS = """
SELECT c.grid_id FROM sensors_gridcoverage c WHERE c.stale
UNION
SELECT g.id FROM grids_grid g
WHERE g.valid_to IS NULL
  AND NOT EXISTS (SELECT 1 FROM sensors_gridcoverage c WHERE c.grid_id = g.id)
"""

# The grids whose current boundary meets a sector (old or new) are marked stale.
MARK_STALE = """
UPDATE sensors_gridcoverage c SET stale = true
FROM grids_gridboundary b
WHERE b.grid_id = c.grid_id AND b.valid_to IS NULL AND NOT c.stale
  AND ST_Intersects(b.geom, ST_GeomFromEWKB(%(sector)s))
"""

# Coverage of a grid that left the tree is dropped with it (a closed grid keeps its row
# otherwise, but it is never shown: the API lists current grids).
DROP_CLOSED = """
DELETE FROM sensors_gridcoverage c USING grids_grid g
WHERE g.id = c.grid_id AND g.valid_to IS NOT NULL
"""


def lock(*, shared: bool) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [COVERAGE_LOCK])


def refresh(grid_ids: list[int] | None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(REFRESH, {"grids": grid_ids})
        done = cursor.rowcount
        cursor.execute(DROP_CLOSED)
        return done


def stale_grids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(STALE_GRIDS)
        return [pk for (pk,) in cursor.fetchall()]


def mark_stale(sectors: list[bytes]) -> int:
    marked = 0
    with connection.cursor() as cursor:
        for sector in sectors:
            cursor.execute(MARK_STALE, {"sector": sector})
            marked += cursor.rowcount
    return marked
