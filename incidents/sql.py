"""The raw SQL of the incidents app, in one place.

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
