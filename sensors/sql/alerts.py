"""Camera analytics alerts: the open alert of a kind near a camera, in metres on the spheroid
(a geography distance the ORM cannot express on a SRID 4326 column), and the lock that makes
"find, else create" one step per kind."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import connection

from sensors.models import AlertKind

# Held to the end of the transaction: two webhooks of one kind (the same event resent, or
# two cameras seeing one smoke) are handled one after the other, so the second finds what
# the first wrote instead of making a second incident. Other kinds do not wait.
ALERT_LOCK = 2260_0601


def lock_kind(kind: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [ALERT_LOCK, AlertKind.values.index(kind)]
        )


# Candidates come from the (kind, last_at) index; the distance is measured on the few left.
# An alert whose incident is closed is over, whatever its end time says. Only the camera's
# own district: across a district border, each district's command centre gets its incident.
OPEN_ALERT_NEAR = """
SELECT a.id
FROM sensors_sensoralert a
JOIN sensors_sensor s ON s.id = a.sensor_id
LEFT JOIN incidents_incident i ON i.id = a.incident_id
WHERE a.kind = %(kind)s AND a.ended_at IS NULL AND s.district_id = %(district)s
  AND a.last_at >= %(since)s AND a.started_at <= %(until)s
  AND (i.id IS NULL OR i.status NOT IN ('closed', 'assessed'))
  AND ST_DWithin(s.location::geography, ST_GeomFromEWKB(%(point)s)::geography, %(metres)s)
ORDER BY ST_Distance(s.location::geography, ST_GeomFromEWKB(%(point)s)::geography), a.last_at DESC
LIMIT 1
"""


def open_alert_near(
    kind: str,
    point: Point,
    metres: float,
    since: dt.datetime,
    until: dt.datetime,
    district: int,
) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            OPEN_ALERT_NEAR,
            {
                "kind": kind,
                "point": bytes(point.ewkb),
                "metres": metres,
                "since": since,
                "until": until,
                "district": district,
            },
        )
        found = cursor.fetchone()
    return found[0] if found else None
