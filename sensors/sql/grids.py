"""Re-keying sensors when grid boundaries change (grids.signals.grid_area_changed)."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from grids.sql import _GRID_FOR_POINT
from sensors.sql import coverage as coverage_sql

# Only the devices inside the changed area are looked at (the GiST index on location), and
# only those whose grid differs are written. The coverage figures of every grid the area
# touches, old or new, are marked stale for the next recomputation.
REASSIGN_SENSORS = f"""
WITH candidate AS (
    SELECT s.id, s.grid_id AS old_grid, (
        {_GRID_FOR_POINT.format(point="s.location")}
    ) AS new_grid
    FROM sensors_sensor s
    WHERE ST_Intersects(s.location, ST_GeomFromEWKB(%(area)s))
)
UPDATE sensors_sensor s SET grid_id = c.new_grid, updated_at = now()
FROM candidate c WHERE s.id = c.id AND c.old_grid IS DISTINCT FROM c.new_grid
"""

MARK_COVERAGE_STALE = """
UPDATE sensors_gridcoverage c SET stale = true
FROM grids_gridboundary b
WHERE b.grid_id = c.grid_id AND (b.valid_to IS NULL OR b.valid_to >= %(on)s)
  AND ST_Intersects(b.geom, ST_GeomFromEWKB(%(area)s))
"""


def reassign_sensors(area_ewkb: bytes, on: dt.date) -> int:
    # The coverage lock, shared: a refresh that started before the boundary change must not
    # overwrite the stale marks with figures for the old boundary.
    coverage_sql.lock(shared=True)
    with connection.cursor() as cursor:
        cursor.execute(REASSIGN_SENSORS, {"area": area_ewkb})
        moved = cursor.rowcount
        cursor.execute(MARK_COVERAGE_STALE, {"area": area_ewkb, "on": on})
        return moved
