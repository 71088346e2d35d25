"""Fire response: the nearest water, the cameras that see a spot and the poles that can warn
around it, measured on the spheroid.

Raw SQL because the ORM cannot order by the geography KNN operator on the functional
partial indexes of migration 0002 (`location::geography` per role), nor say `coverage &&
target` so that the partial GiST index on `coverage` is used. One statement per list, so a
request runs a small, fixed number of queries whatever it finds.

The target (a point, or an area) is passed as EWKB bytes and decoded in place; it is written
out in each statement, not taken from a CTE, because the planner uses an index for `<->` and
`&&` only against a value it knows when planning. `aim` is the point bearings are measured
to (the point itself, or a point inside the area). Devices are those of one district unless
`everywhere` (administrators).
"""

from __future__ import annotations

from django.db import connection

TARGET = "ST_GeomFromEWKB(%(target)s)"
AIM = "ST_GeomFromEWKB(%(aim)s)"
IN_SCOPE = "(%(everywhere)s OR s.district_id = %(district)s)"

# The district the target lies in (among those the caller may ask about: none means outside)
# and the governance grid holding the aim, by the rule of grids.sql._GRID_FOR_POINT.
PLACE = f"""
SELECT
    (SELECT r.id FROM grids_regionboundary b JOIN grids_region r ON r.id = b.region_id
     WHERE r.level = 'district' AND b.valid_to IS NULL AND r.valid_to IS NULL
       AND (%(everywhere)s OR r.id = %(district)s) AND ST_Intersects(b.geom, {TARGET})
     ORDER BY r.code LIMIT 1),
    grid.id, grid.code, grid.name, grid.community, grid.street
FROM (SELECT 1) one
LEFT JOIN LATERAL (
    SELECT g.id, g.code, g.name, c.name AS community, st.name AS street
    FROM grids_gridboundary b
    JOIN grids_grid g ON g.id = b.grid_id
    JOIN grids_region c ON c.id = g.community_id
    JOIN grids_region st ON st.id = c.parent_id
    WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND g.theme = 'governance'
      AND ST_Intersects(b.geom, {AIM})
    ORDER BY g.code LIMIT 1
) grid ON true
"""

# The geography KNN operator orders on the sphere (index sensor_tank_geog); the reported
# distance is on the spheroid, which differs by up to about 0.5 % with the direction. So the
# index gives a few more candidates than asked and they are ranked again by the spheroid
# distance. A tank's level: the newest reading's (`latest` holds the values, or a `values`
# object), else the level typed in its properties.
TANKS = f"""
SELECT id, code, name, status, ST_X(location), ST_Y(location), distance_m,
       level_pct, CASE WHEN from_reading THEN latest_at END, capacity_m3
FROM (
    SELECT s.id, s.code, s.name, s.status, s.location, s.latest_at,
           ST_Distance(s.location::geography, {TARGET}::geography) AS distance_m,
           coalesce(
               (coalesce(s.latest -> 'values', s.latest) ->> 'level_pct')::float8,
               (s.properties ->> 'level_pct')::float8
           ) AS level_pct,
           (coalesce(s.latest -> 'values', s.latest) ->> 'level_pct') IS NOT NULL
               AS from_reading,
           (s.properties ->> 'capacity_m3')::float8 AS capacity_m3
    FROM sensors_sensor s
    WHERE s.role = 'water_tank' AND {IN_SCOPE}
    ORDER BY s.location::geography <-> {TARGET}::geography
    LIMIT %(candidates)s
) nearest
ORDER BY distance_m, code
LIMIT %(tanks)s
"""

# Cameras whose view sector covers the target (index sensor_coverage_gist), with the
# direction from the camera to the aim: where to turn a PTZ camera.
CAMERAS = f"""
SELECT s.id, s.code, s.name, s.status, ST_X(s.location), ST_Y(s.location),
       ST_Distance(s.location::geography, {TARGET}::geography) AS distance_m,
       degrees(ST_Azimuth(s.location::geography, {AIM}::geography)),
       (s.properties ->> 'fov')::float8, (s.properties ->> 'range')::float8,
       ST_AsGeoJSON(s.coverage, 6)::json, s.properties ->> 'stream'
FROM sensors_sensor s
WHERE s.role = 'camera' AND {IN_SCOPE}
  AND s.coverage && {TARGET} AND ST_Intersects(s.coverage, {TARGET})
ORDER BY distance_m, s.code
"""

# Poles whose broadcast circle covers the target (sensor_coverage_gist) and poles within the
# distance of it (sensor_pole_geog): two index look-ups joined, each pole once.
POLES = f"""
SELECT s.id, s.code, s.name, s.status, ST_X(s.location), ST_Y(s.location),
       ST_Distance(s.location::geography, {TARGET}::geography) AS distance_m,
       (s.properties ->> 'broadcast_radius')::float8,
       coalesce(ST_Intersects(s.coverage, {TARGET}), false)
FROM sensors_sensor s
WHERE s.id IN (
    SELECT c.id FROM sensors_sensor c
    WHERE c.role = 'voice_pole' AND c.coverage && {TARGET}
      AND ST_Intersects(c.coverage, {TARGET})
    UNION ALL
    SELECT n.id FROM sensors_sensor n
    WHERE n.role = 'voice_pole'
      AND ST_DWithin(n.location::geography, {TARGET}::geography, %(within)s)
) AND {IN_SCOPE}
ORDER BY distance_m, s.code
"""

STATEMENTS = {"place": PLACE, "tanks": TANKS, "cameras": CAMERAS, "poles": POLES}


def params(
    target: bytes,
    aim: bytes,
    *,
    district: int | None,
    everywhere: bool,
    tanks: int,
    within: float,
) -> dict:
    """The parameters every statement above takes (each uses those it names)."""
    return {
        "target": target,
        "aim": aim,
        "district": district,
        "everywhere": everywhere,
        "tanks": tanks,
        "candidates": tanks * 2 + 4,
        "within": within,
    }


def run(name: str, values: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(STATEMENTS[name], values)
        return cursor.fetchall()
