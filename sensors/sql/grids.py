"""Re-keying sensors when grid boundaries change (grids.signals.grid_area_changed)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils.translation import gettext_lazy as _

from grids.keyed import KeyedPoints
from grids.sql import points_in_area, rekeyed
from sensors.sql import coverage as coverage_sql

# The devices inside the changed area, staged and keyed by the shared statement of
# grids.sql (one index scan per boundary); only those whose grid differs are written.
SENSORS = KeyedPoints("sensors", _("sensors"), "sensors_sensor")

REASSIGN_SENSORS = f"""
UPDATE sensors_sensor s SET grid_id = k.new_grid, updated_at = now()
FROM ({rekeyed("sensor_rekey")}) k
WHERE s.id = k.row AND k.old_grid IS DISTINCT FROM k.new_grid
"""

# The coverage figures of every grid the area touches, old or new, are marked stale for the
# next recomputation.
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
    with points_in_area("sensor_rekey", [SENSORS], area_ewkb), connection.cursor() as cursor:
        cursor.execute(REASSIGN_SENSORS, {"area": area_ewkb})
        moved = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(MARK_COVERAGE_STALE, {"area": area_ewkb, "on": on})
    return moved


# The stock of a past day once boundaries have changed since: each device keyed by its point
# to the governance grid whose boundary was valid that day (the keying rule of
# grids.sql._GRID_FOR_POINT on that day's versions: the smallest code on a shared edge), so a
# boundary change does not rewrite the figures of the days before it. One join from the
# boundaries to the located devices (the GiST index on location).
STOCK_ON = """
WITH keyed AS (
    SELECT DISTINCT ON (s.id) s.id, s.role, t.code AS type_code, g.id AS grid_id
    FROM grids_gridboundary b
    JOIN grids_grid g ON g.id = b.grid_id
    JOIN sensors_sensor s ON ST_Intersects(b.geom, s.location)
    JOIN sensors_sensortype t ON t.id = s.type_id
    WHERE b.valid_from <= %(on)s AND (b.valid_to IS NULL OR b.valid_to > %(on)s)
      AND g.valid_from <= %(on)s AND (g.valid_to IS NULL OR g.valid_to > %(on)s)
      AND g.theme = 'governance'
      AND (s.installed_on IS NULL OR s.installed_on <= %(on)s)
    ORDER BY s.id, g.code
)
SELECT grid_id, role, type_code, count(*) FROM keyed
WHERE grid_id = ANY(%(grids)s)
GROUP BY grid_id, role, type_code
"""


def stock_on(on: dt.date, grid_ids: list[int]) -> list[tuple[int, str, str, int]]:
    """(grid id, role, type code, devices) on a past day, by the boundaries valid then."""
    with connection.cursor() as cursor:
        cursor.execute(STOCK_ON, {"on": on, "grids": list(grid_ids)})
        return cursor.fetchall()
