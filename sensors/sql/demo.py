"""Bulk writes of the demo's sensors: half a million rows are loaded with COPY and keyed to
their grids in one statement, and the demo's rows are removed with set-based deletes (the
ORM would load and cascade row by row)."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from grids.sql import POINTS_TO_GRIDS, copy_frame

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
    "last_seen_at",
    "properties",
    "coverage",
)

STAGING = """
CREATE TEMP TABLE sensor_staging (
    row integer NOT NULL,
    code text NOT NULL,
    type_id bigint NOT NULL,
    role text NOT NULL,
    name text NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    department_id bigint,
    gateway_id bigint,
    installed_on date,
    status text NOT NULL,
    last_seen_at timestamptz,
    properties jsonb NOT NULL,
    coverage geometry(Polygon, 4326)
) ON COMMIT DROP
"""

# The staged points in the order of PostGIS's space-filling curve with a GiST index, so that
# each grid boundary finds its points by one index scan (as grids.sql.copy_households).
POINTS = """
CREATE TEMP TABLE sensor_point ON COMMIT DROP AS
SELECT row, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM sensor_staging ORDER BY geom
"""

# Each device keyed to its grid by the foundation's rule (grids.sql._GRID_FOR_POINT: the
# governance grid whose current boundary intersects it, the smallest code first), and written
# in space-filling-curve order: a map tile's devices then sit on few heap pages.
INSERT = f"""
INSERT INTO sensors_sensor (
    code, type_id, role, name, location, grid_id, district_id, department_id, gateway_id,
    installed_on, status, last_seen_at, properties, latest, latest_at, coverage, token_hash,
    created_at, updated_at)
SELECT s.code, s.type_id, s.role, s.name, p.geom, k.grid_id, %(district)s, s.department_id,
       s.gateway_id, s.installed_on, s.status, s.last_seen_at, s.properties, '{{}}'::jsonb, NULL,
       s.coverage, '', now(), now()
FROM sensor_staging s
JOIN sensor_point p ON p.row = s.row
LEFT JOIN ({POINTS_TO_GRIDS.format(points="sensor_point")}) k ON k.row = s.row
ORDER BY p.geom
"""


def copy_sensors(table, district_id: int) -> int:
    """COPY the demo's devices (a DataFrame with STAGING_COLUMNS; coverage as hex EWKB, None
    for no coverage) and insert them keyed to their grids; the number inserted."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sensor_staging, sensor_point")
        cursor.execute(STAGING)
        copy_frame(cursor, "sensor_staging", table, STAGING_COLUMNS)
        cursor.execute(POINTS)
        cursor.execute("CREATE INDEX ON sensor_point USING gist (geom)")
        cursor.execute("CREATE INDEX ON sensor_point (row)")
        cursor.execute("ANALYZE sensor_staging")
        cursor.execute("ANALYZE sensor_point")
        cursor.execute(INSERT, {"district": district_id})
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE sensor_staging, sensor_point")
        return inserted


# The demo's devices are those whose code starts with the demo's prefix. Their readings,
# deliveries and alerts go first: the foreign keys to sensors_sensor do not cascade in the
# database (Django cascades in Python).
_DEMO = "SELECT id FROM sensors_sensor WHERE code LIKE %(prefix)s"
REMOVE = [
    f"DELETE FROM sensors_reading WHERE sensor_id IN ({_DEMO})",
    f"DELETE FROM sensors_delivery WHERE pole_id IN ({_DEMO})",
    f"DELETE FROM sensors_sensoralert WHERE sensor_id IN ({_DEMO})",
    "DELETE FROM sensors_sensor WHERE code LIKE %(prefix)s",
]


def remove_sensors(prefix: str) -> int:
    with connection.cursor() as cursor:
        for statement in REMOVE:
            cursor.execute(statement, {"prefix": prefix.replace("%", r"\%") + "%"})
        return cursor.rowcount


# Hourly readings over the last days, generated in the database: a water tank's level drifts
# and ends at its current level; temperature and humidity follow the day (local time) with
# a little noise. The newest reading becomes each device's latest.
READINGS = """
INSERT INTO sensors_reading (sensor_id, at, received_at, "values")
SELECT s.id, t.at, t.at + interval '2 seconds',
    CASE WHEN s.role = 'water_tank' THEN jsonb_build_object('level_pct', round(least(100,
        greatest(0, (s.properties->>'level_pct')::numeric
            + (3 * (sin(s.id + extract(epoch FROM %(end)s - t.at) / 40000.0) - sin(s.id))
               + (extract(epoch FROM %(end)s - t.at) / 86400.0) * (s.id %% 5))::numeric
        )), 1))
    ELSE jsonb_build_object(
        'temperature_c', round((17 + 7 * sin(2 * pi() * (extract(hour FROM t.at AT TIME ZONE
            %(tz)s) - 9) / 24) + (s.id %% 7 - 3) * 0.4 + (random() - 0.5) * 1.5)::numeric, 1),
        'humidity_pct', round(least(100, greatest(20, 78 - 16 * sin(2 * pi() * (extract(hour
            FROM t.at AT TIME ZONE %(tz)s) - 9) / 24) + (random() - 0.5) * 6))::numeric, 1))
    END
FROM sensors_sensor s
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz, %(step)s) AS t(at)
WHERE s.id = ANY(%(ids)s)
"""

LATEST = """
UPDATE sensors_sensor s SET latest = r."values", latest_at = r.at
FROM sensors_reading r
WHERE r.sensor_id = s.id AND r.at = %(end)s AND s.id = ANY(%(ids)s)
"""


def write_readings(
    ids: list[int], start: dt.datetime, end: dt.datetime, step: dt.timedelta, tz: str
) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2260)")
        cursor.execute(READINGS, {"ids": ids, "start": start, "end": end, "step": step, "tz": tz})
        written = cursor.rowcount
        cursor.execute(LATEST, {"ids": ids, "end": end})
        return written


def analyse() -> None:
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} sensors_sensor")
        cursor.execute(f"{command} sensors_reading")
