"""The raw SQL of the incidents app, in one place. Distances are metres on the spheroid
(geography casts, served by functional GiST indexes), which the ORM cannot express on SRID
4326 columns.

The grids near a reported point, in metres on the spheroid: the ORM's `dwithin` refuses
metres on a SRID 4326 column, and a distance in degrees is not a distance. The geography
cast is index-assisted by grids' `gridboundary_geog` index (grids migration 0006).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import connection

GRIDS_NEAR = """
SELECT b.grid_id FROM grids_gridboundary b
WHERE b.valid_from <= %(on)s AND (b.valid_to IS NULL OR b.valid_to > %(on)s)
  AND ST_DWithin(b.geom::geography, ST_GeomFromEWKB(%(point)s)::geography, %(metres)s)
"""


def grid_ids_near(point: Point, metres: float, on: dt.date) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(GRIDS_NEAR, {"on": on, "point": bytes(point.ewkb), "metres": metres})
        return [grid_id for (grid_id,) in cursor.fetchall()]


# The incidents of a category near a point: served by `incident_location_geog`
# (migration 0002) and filtered by the category and time index.
INCIDENTS_NEAR = """
SELECT i.id, ST_Distance(i.location::geography, p.g) AS metres
FROM incidents_incident i
JOIN incidents_category c ON c.id = i.category_id,
     (SELECT ST_GeomFromEWKB(%(point)s)::geography AS g) p
WHERE c.code = %(category)s AND i.reported_at >= %(since)s
  AND ST_DWithin(i.location::geography, p.g, %(metres)s)
  AND i.id IS DISTINCT FROM %(exclude)s
ORDER BY metres, i.id
LIMIT 20
"""


def incidents_near(
    category: str, point: Point, metres: float, since: dt.datetime, exclude: int | None
) -> dict[int, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            INCIDENTS_NEAR,
            {
                "category": category,
                "point": bytes(point.ewkb),
                "metres": metres,
                "since": since,
                "exclude": exclude,
            },
        )
        return dict(cursor.fetchall())


# Mean time per step: each event's time since the incident's previous step (a window over
# the timeline), averaged per group and action. The clock's `overdue` marks and the merge
# notes on a target are not steps of that incident and are left out before the window.
STEP_HOURS = """
WITH cases AS ({cases}),
steps AS (
    SELECT e.incident_id, e.action,
           e.at - lag(e.at) OVER (PARTITION BY e.incident_id ORDER BY e.at, e.id) AS took
    FROM incidents_incidentevent e
    WHERE e.incident_id IN (SELECT id FROM cases) AND e.action NOT IN ('overdue', 'merge')
)
SELECT c.key, s.action, avg(extract(epoch FROM s.took)) / 3600
FROM steps s JOIN cases c ON c.id = s.incident_id
WHERE s.took IS NOT NULL
GROUP BY c.key, s.action
"""


def mean_hours_per_step(cases) -> dict[int, dict[str, float]]:
    """`cases` is a queryset of (incident id, group key) pairs, compiled in as a subquery."""
    sql, params = cases.query.sql_with_params()
    wrapped = f"SELECT q.* FROM ({sql}) AS q(id, key)"
    hours: dict[int, dict[str, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute(STEP_HOURS.format(cases=wrapped), params)
        for key, action, mean in cursor.fetchall():
            hours.setdefault(key, {})[action] = round(float(mean), 2)
    return hours
