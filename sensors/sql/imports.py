"""Bulk loading of devices from a file: COPY into a staging table, every point keyed to its
grid by one join, then one INSERT for new codes and one UPDATE for codes already registered.
The ORM would write and key them one by one (a grid lookup per device); this does 20,000 in
a few statements. Coverage polygons arrive computed (hex EWKB), as the registry computes
them."""

from __future__ import annotations

from django.db import connection

from grids.sql import POINTS_TO_GRIDS, copy_frame, lock_tree
from sensors.sql import coverage as coverage_sql

STAGING_COLUMNS = (
    "row",
    "code",
    "type_id",
    "role",
    "name",
    "lon",
    "lat",
    "department_id",
    "gateway_id",
    "installed_on",
    "status",
    "properties",
    "coverage",
    "existing_id",
)

SENSOR_STAGING = """
CREATE TEMP TABLE sensor_staging (
    row integer NOT NULL,
    code text NOT NULL,
    type_id bigint NOT NULL,
    role text NOT NULL,
    name text,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    department_id bigint,
    gateway_id bigint,
    installed_on date,
    status text,
    properties jsonb NOT NULL,
    coverage text,
    existing_id bigint
) ON COMMIT DROP
"""

# Points in space-filling-curve order with a GiST index, so that each boundary below finds
# its points through one index scan (as grids.sql does for households).
SENSOR_POINT = """
CREATE TEMP TABLE sensor_point ON COMMIT DROP AS
SELECT row, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM sensor_staging ORDER BY geom
"""

# The grid of each point by the foundation's rule (the governance grid whose current boundary
# covers it, the smallest code on a shared edge); the district is the given one, else the
# district whose boundary covers the point, else the nearest (a point within the tolerance
# outside every district still belongs to one).
SENSOR_KEYED = f"""
CREATE TEMP TABLE sensor_keyed ON COMMIT DROP AS
SELECT s.*, k.grid_id, COALESCE(%(district)s::bigint, (
    SELECT b.region_id FROM grids_regionboundary b JOIN grids_region r ON r.id = b.region_id
    WHERE r.level = 'district' AND b.valid_to IS NULL AND r.valid_to IS NULL
    ORDER BY b.geom <-> ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), r.code LIMIT 1
)) AS district_id
FROM sensor_staging s
LEFT JOIN ({POINTS_TO_GRIDS.format(points="sensor_point")}) k ON k.row = s.row
"""

# Camera coverage of every grid an imported camera's sector reaches, old or new, is out of
# date (not only the grid its point lies in: a sector crosses grid edges).
MARK_COVERAGE_STALE = """
UPDATE sensors_gridcoverage c SET stale = true
FROM grids_gridboundary b
WHERE b.grid_id = c.grid_id AND b.valid_to IS NULL AND (
    EXISTS (SELECT 1 FROM sensor_keyed k
            WHERE k.role = 'camera' AND k.coverage IS NOT NULL
              AND ST_Intersects(b.geom, k.coverage::geometry))
    OR EXISTS (SELECT 1 FROM sensor_keyed k JOIN sensors_sensor s ON s.id = k.existing_id
               WHERE s.role = 'camera' AND s.coverage IS NOT NULL
                 AND ST_Intersects(b.geom, s.coverage))
)
"""

SENSOR_INSERT = """
INSERT INTO sensors_sensor
    (code, type_id, role, name, location, grid_id, district_id, department_id, gateway_id,
     installed_on, status, last_seen_at, properties, latest, latest_at, coverage, token_hash,
     created_at, updated_at)
SELECT code, type_id, role, COALESCE(name, ''), ST_SetSRID(ST_MakePoint(lon, lat), 4326),
       grid_id, district_id, department_id, gateway_id, installed_on,
       COALESCE(status, 'offline'), NULL, properties, '{}'::jsonb, NULL,
       coverage::geometry, '', now(), now()
FROM sensor_keyed WHERE existing_id IS NULL
ORDER BY row
"""

# A re-imported code is the same device corrected: located, keyed and described anew; an
# empty optional cell keeps what is registered.
SENSOR_UPDATE = """
UPDATE sensors_sensor s SET
    name = COALESCE(k.name, s.name),
    location = ST_SetSRID(ST_MakePoint(k.lon, k.lat), 4326),
    grid_id = k.grid_id,
    department_id = COALESCE(k.department_id, s.department_id),
    gateway_id = COALESCE(k.gateway_id, s.gateway_id),
    installed_on = COALESCE(k.installed_on, s.installed_on),
    status = COALESCE(k.status, s.status),
    properties = k.properties,
    coverage = k.coverage::geometry,
    updated_at = now()
FROM sensor_keyed k WHERE s.id = k.existing_id
"""


def copy_sensors(table) -> tuple[int, int, list[int]]:
    """Write the staged devices inside the caller's transaction. `table` is a DataFrame with
    the STAGING_COLUMNS (properties as JSON text, coverage as hex EWKB or None, existing_id
    the id of a registered device of the same code). Returns (inserted, updated, the rows
    of the points that fell in no grid)."""
    district = table.attrs.get("district_id")
    # The grid lookup and the writes under the shared tree lock: a boundary change cannot
    # re-key in between (grids.sql.TREE_LOCK).
    lock_tree(shared=True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sensor_staging, sensor_point, sensor_keyed")
        cursor.execute(SENSOR_STAGING)
        copy_frame(cursor, "sensor_staging", table, STAGING_COLUMNS)
        cursor.execute("ANALYZE sensor_staging")
        cursor.execute(SENSOR_POINT)
        cursor.execute("CREATE INDEX ON sensor_point USING gist (geom)")
        cursor.execute("ANALYZE sensor_point")
        cursor.execute(SENSOR_KEYED, {"district": district})
        # Shared with other camera writes, exclusive for a refresh: a refresh running now
        # cannot overwrite the stale marks with figures from before the import.
        coverage_sql.lock(shared=True)
        cursor.execute(MARK_COVERAGE_STALE)
        cursor.execute(SENSOR_INSERT)
        inserted = cursor.rowcount
        cursor.execute(SENSOR_UPDATE)
        updated = cursor.rowcount
        cursor.execute("SELECT row FROM sensor_keyed WHERE grid_id IS NULL ORDER BY row")
        flagged = [row for (row,) in cursor.fetchall()]
        cursor.execute("DROP TABLE sensor_staging, sensor_point, sensor_keyed")
        return inserted, updated, flagged
