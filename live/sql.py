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


# The newest id handed out, committed or not: a client's id above it is from another
# database (a reset). MAX(id) is 0 once retention emptied the log, and a client's id would
# then look newer than the log; the hello id is MAX(id) when there is one (stream.catch_up).
NEWEST = """
SELECT COALESCE(last_value, 0)  -- NULL until the first id is taken
FROM pg_sequences WHERE schemaname = current_schema() AND sequencename = %s
"""


def newest_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(NEWEST, ["live_event_id_seq"])
        row = cursor.fetchone()
        return (row[0] or 0) if row else 0


# The hub's listener loop (live/hub.py) runs on psycopg async connections of its own, outside
# Django's synchronous ORM: these statements are its reads. A wake-up reads every row after
# an id (the hub passes the newest handled one minus a window for late commits).
LISTEN = f"LISTEN {CHANNEL}"
READ_AFTER = (
    "SELECT id, kind, rule, at, layers, object, grid_id, community_id, street_id, "
    "district_id, departments FROM live_event WHERE id > %s ORDER BY id"
)
# The columns of READ_AFTER, in order (live.models.Event's fields).
READ_FIELDS = (
    "id",
    "kind",
    "rule",
    "at",
    "layers",
    "object",
    "grid_id",
    "community_id",
    "street_id",
    "district_id",
    "departments",
)
# Where a starting listener begins: the newest committed row, and the ids of the window
# below it already committed (they are not handed out again).
NEWEST_COMMITTED = "SELECT COALESCE(MAX(id), 0) FROM live_event"
HANDLED_SINCE = "SELECT id FROM live_event WHERE id > %s"
