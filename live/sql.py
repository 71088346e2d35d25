"""The raw SQL of the live app.

NOTIFY has no ORM form. It is transactional: sent inside the writer's transaction, it is
delivered when that commits and dropped when it rolls back, which is exactly when an event
must reach the browsers. The payload is only a wake-up (the newest id): listeners read the
rows themselves, so a burst of events costs one read per process and no payload limit.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

CHANNEL = "gridline_live"


def notify(event_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(event_id)])


# Retention runs beside a publish: a range delete on the `at` index.
def prune(before: dt.datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM live_event WHERE at < %s", [before])
        return cursor.rowcount
