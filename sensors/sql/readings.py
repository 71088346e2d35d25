"""The readings time series: monthly partitions and bulk ingest through arrays.

Partitions are DDL, which the ORM cannot express, and their names come from code (a month),
never from input. A batch of readings goes in as one INSERT from unnested arrays: one
round trip for a thousand rows, with ON CONFLICT DO NOTHING making a resent reading a no-op
on the (sensor, at) key every partition carries. The sensors a batch touches are updated the
same way, one UPDATE from unnested arrays.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

PARENT = "sensors_reading"
# Partition creation and dropping take this advisory lock, so two processes making the same
# month (the nightly job and an ingest that met a month without a partition) do not race on
# the catalogue.
PARTITION_LOCK = 74_060_001


def ints(values) -> str:
    """A bigint[] parameter as one array literal. psycopg's client-side binding (Django's
    default) adapts a Python list element by element, about 30 ms for a thousand
    timestamps; one string is quoted at once."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def times(values) -> str:
    """A timestamptz[] literal: ISO-8601 needs no quoting inside an array literal."""
    return "{" + ",".join("NULL" if v is None else v.isoformat() for v in values) + "}"


def texts(values) -> str:
    """A text[] literal, each element quoted (JSON text included)."""
    return (
        "{"
        + ",".join(
            "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in values
        )
        + "}"
    )


PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'sensors_reading'::regclass
"""


def partition_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(PARTITIONS)
        return {name for (name,) in cursor.fetchall()}


def table_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [PARENT])
        return cursor.fetchone()[0]


def lock_partitions() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK])


def create_partition(name: str, start: dt.datetime, end: dt.datetime) -> None:
    # `name` is built from a month by services.readings.partition_name; the bounds are
    # parameters (bound client-side by the psycopg backend, as DDL takes no server
    # parameters).
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF {PARENT} '
            "FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )


def drop_partition(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


# Rows are sent sorted by (sensor, at), so two batches writing the same keys at once wait on
# each other in the same order instead of deadlocking. The row count is the rows that were
# new: the others were stored before (a resent reading).
INSERT_READINGS = """
INSERT INTO sensors_reading (sensor_id, at, received_at, "values")
SELECT r.sensor_id, r.at, %(received_at)s, r.v::jsonb
FROM unnest(%(sensors)s::bigint[], %(ats)s::timestamptz[], %(values)s::text[])
    AS r(sensor_id, at, v)
ON CONFLICT (sensor_id, at) DO NOTHING
"""


def insert_readings(
    sensors: list[int], ats: list[dt.datetime], values: list[str], received_at: dt.datetime
) -> int:
    """Store readings (values as JSON text); how many were new."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_READINGS,
            {
                "sensors": ints(sensors),
                "ats": times(ats),
                "values": texts(values),
                "received_at": received_at,
            },
        )
        return cursor.rowcount


# The batch's devices are locked in id order before anything is written, so concurrent
# batches for overlapping devices queue instead of deadlocking, and the state read here
# (status, heartbeat, newest reading) is the state the update below replaces.
LOCK_SENSORS = """
SELECT id, status, last_seen_at, latest_at FROM sensors_sensor
WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR UPDATE
"""


def lock_sensors(ids: list[int]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SENSORS, {"ids": ints(ids)})
        return cursor.fetchall()


# A NULL latest leaves the stored one: a heartbeat, or a reading older than the newest.
UPDATE_SENSORS = """
UPDATE sensors_sensor s
SET last_seen_at = u.seen, status = u.status,
    latest = COALESCE(u.latest::jsonb, s.latest), latest_at = COALESCE(u.latest_at, s.latest_at)
FROM unnest(%(ids)s::bigint[], %(seen)s::timestamptz[], %(status)s::text[],
            %(latest)s::text[], %(latest_at)s::timestamptz[])
    AS u(id, seen, status, latest, latest_at)
WHERE s.id = u.id
"""


def update_sensors(
    ids: list[int],
    seen: list[dt.datetime],
    status: list[str],
    latest: list[str | None],
    latest_at: list[dt.datetime | None],
) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            UPDATE_SENSORS,
            {
                "ids": ints(ids),
                "seen": times(seen),
                "status": texts(status),
                "latest": texts(latest),
                "latest_at": times(latest_at),
            },
        )
        return cursor.rowcount


# Alerts that end and alerts that start, for many devices in one statement. An alert of a
# kind already open for the device is not opened twice.
CHANGE_ALERTS = """
WITH closed AS (
    UPDATE sensors_sensoralert a SET ended_at = %(now)s
    FROM unnest(%(close_ids)s::bigint[], %(close_kinds)s::text[]) AS c(id, kind)
    WHERE a.sensor_id = c.id AND a.kind = c.kind AND a.ended_at IS NULL
    RETURNING a.id
), opened AS (
    INSERT INTO sensors_sensoralert
        (sensor_id, kind, started_at, last_at, count, external_id, details)
    SELECT o.id, o.kind, o.at, o.at, 1, '', o.details::jsonb
    FROM unnest(%(open_ids)s::bigint[], %(open_kinds)s::text[], %(open_at)s::timestamptz[],
                %(open_details)s::text[]) AS o(id, kind, at, details)
    WHERE NOT EXISTS (
        SELECT 1 FROM sensors_sensoralert a
        WHERE a.sensor_id = o.id AND a.kind = o.kind AND a.ended_at IS NULL
    )
    RETURNING id
)
SELECT (SELECT count(*) FROM closed), (SELECT count(*) FROM opened)
"""


def change_alerts(
    now: dt.datetime,
    close: list[tuple[int, str]],
    open_: list[tuple[int, str, dt.datetime, str]],
) -> tuple[int, int]:
    """End the open alerts (sensor, kind) in `close`; open (sensor, kind, at, details JSON)
    for each of `open_` with none open. Returns (closed, opened)."""
    with connection.cursor() as cursor:
        cursor.execute(
            CHANGE_ALERTS,
            {
                "now": now,
                "close_ids": ints(c[0] for c in close),
                "close_kinds": texts(c[1] for c in close),
                "open_ids": ints(o[0] for o in open_),
                "open_kinds": texts(o[1] for o in open_),
                "open_at": times(o[2] for o in open_),
                "open_details": texts(o[3] for o in open_),
            },
        )
        closed, opened = cursor.fetchone()
        return closed, opened


# The offline sweep. The partial index on last_seen_at of online devices is range-scanned
# up to the shortest silence any type allows; each device is then held to its own type's.
# Devices marked online by hand that never reported count from their registration. Devices
# locked by an ingest batch at this moment are skipped: they are speaking, and waiting for
# them could deadlock with a batch that locks in id order.
SWEEP_OFFLINE = """
WITH silent AS (
    SELECT s.id FROM sensors_sensor s
    JOIN sensors_sensortype t ON t.id = s.type_id
    WHERE s.status = 'online'
      AND (s.last_seen_at < %(earliest)s OR s.last_seen_at IS NULL)
      AND COALESCE(s.last_seen_at, s.created_at)
          < %(now)s - COALESCE(t.offline_after, %(default_silence)s)
    FOR UPDATE OF s SKIP LOCKED
), gone AS (
    UPDATE sensors_sensor s SET status = 'offline'
    FROM silent WHERE s.id = silent.id
    RETURNING s.id, s.role, s.grid_id, s.department_id, s.last_seen_at
), opened AS (
    INSERT INTO sensors_sensoralert
        (sensor_id, kind, started_at, last_at, count, external_id, details)
    SELECT g.id, 'offline', %(now)s, %(now)s, 1, '',
           jsonb_build_object('last_seen_at', g.last_seen_at)
    FROM gone g
    WHERE NOT EXISTS (
        SELECT 1 FROM sensors_sensoralert a
        WHERE a.sensor_id = g.id AND a.kind = 'offline' AND a.ended_at IS NULL
    )
    RETURNING sensor_id
)
SELECT g.id, g.role, g.grid_id, g.department_id, (SELECT count(*) FROM opened)
FROM gone g
"""

# Retired types too: their devices still report and still go offline.
SHORTEST_SILENCE = "SELECT min(offline_after) FROM sensors_sensortype"


def sweep_offline(
    now: dt.datetime, default_silence: dt.timedelta
) -> list[tuple[int, str, int | None, int | None]]:
    """Mark silent online devices offline, opening an OFFLINE alert for each; the devices
    as (id, role, grid id, department id)."""
    with connection.cursor() as cursor:
        cursor.execute(SHORTEST_SILENCE)
        (shortest,) = cursor.fetchone()
        silence = min(default_silence, shortest) if shortest is not None else default_silence
        cursor.execute(
            SWEEP_OFFLINE,
            {"now": now, "earliest": now - silence, "default_silence": default_silence},
        )
        return [row[:4] for row in cursor.fetchall()]
