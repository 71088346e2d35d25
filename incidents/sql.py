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
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils.translation import gettext_lazy as _

from grids.keyed import KeyedPoints
from grids.sql import points_in_area, rekeyed

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
    try:
        sql, params = cases.query.sql_with_params()
    except EmptyResultSet:
        # A scope that can hold nothing (grids.scoping.NOTHING: a service provider, a grid
        # worker without a grid) compiles to no SQL at all: no cases, so no hours.
        return {}
    wrapped = f"SELECT q.* FROM ({sql}) AS q(id, key)"
    hours: dict[int, dict[str, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute(STEP_HOURS.format(cases=wrapped), params)
        for key, action, mean in cursor.fetchall():
            hours.setdefault(key, {})[action] = round(float(mean), 2)
    return hours


# --- boundary changes (grids.signals.grid_area_changed) ---------------------------------------

# Open incidents as keyed to grids (grids.keyed): re-keyed by their point when a boundary
# changes (the foundation's rule, grids.sql._GRID_FOR_POINT), except that one still within
# GRIDLINE_INCIDENT_EDGE_M of the new boundary of the grid it is keyed to keeps it: near an
# edge the reporter confirmed that grid. Closed incidents never move. Registered by the app
# for the impact preview, which so counts exactly what the apply moves.
OPEN_INCIDENTS = KeyedPoints(
    "incidents",
    _("open incidents"),
    "incidents_incident",
    where="status NOT IN ('closed', 'assessed')",
    keep_within="GRIDLINE_INCIDENT_EDGE_M",
)

# An incident reported before the new boundaries start keeps the grid it was reported in
# (reported_grid), so figures of that period do not change; the community, street and
# district stay (a grid change never moves a point to another community).
REKEY_OPEN_INCIDENTS = f"""
UPDATE incidents_incident i
SET grid_id = k.new_grid,
    reported_grid_id = CASE WHEN i.reported_at < %(start)s
                            THEN COALESCE(i.reported_grid_id, i.grid_id)
                            ELSE i.reported_grid_id END
FROM ({rekeyed("incident_rekey")}) k
WHERE i.id = k.row AND k.old_grid IS DISTINCT FROM k.new_grid
"""


def rekey_open_incidents(area_ewkb: bytes, start: dt.datetime) -> int:
    with (
        points_in_area("incident_rekey", [OPEN_INCIDENTS], area_ewkb),
        connection.cursor() as cursor,
    ):
        cursor.execute(REKEY_OPEN_INCIDENTS, {"area": area_ewkb, "start": start})
        return cursor.rowcount
