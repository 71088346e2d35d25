"""The live events of sensors (issue #16): a device's status change and an alert opened or
closed reach the open maps and screens of the users who may see the device
(sensors.models.sensor_q). Called inside the writer's transaction; sent on commit. The
ingest and the offline sweep change devices in bulk, so events are built in bulk: one query
for the devices, one insert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from live.services import event, publish_many
from sensors.models import AlertKind, Role, Sensor, SensorAlert, Status

LAYERS = ("sensors",)
# Alerts that call people out; the others are upkeep.
ALARMS = frozenset({AlertKind.SMOKE_FIRE, AlertKind.THROWN_OBJECT, AlertKind.CROWD})

FIELDS = (
    "id",
    "code",
    "name",
    "status",
    "role",
    "location",
    "grid_id",
    "grid__community_id",
    "grid__community__parent_id",
    "grid__community__parent__parent_id",
    "district_id",
    "department_id",
)


def _devices(ids: Iterable[int]) -> dict[int, dict]:
    return {row["id"]: row for row in Sensor.objects.filter(pk__in=set(ids)).values(*FIELDS)}


def _keys(row: dict) -> dict:
    gridded = row["grid_id"] is not None
    return {
        "rule": "sensor",
        "layers": LAYERS,
        "grid": row["grid_id"],
        "community": row["grid__community_id"],
        "street": row["grid__community__parent_id"],
        # A device in a grid belongs to the grid's district; one outside any grid to its own.
        "district": row["grid__community__parent__parent_id"] if gridded else row["district_id"],
        "departments": [row["department_id"]] if row["department_id"] else [],
    }


def _sensor(row: dict) -> dict:
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"] or row["code"],
        "status": row["status"],
        "status_label": str(Status(row["status"]).label),
        "role": row["role"],
        "role_label": str(Role(row["role"]).label),
        "lon": round(row["location"].x, 6),
        "lat": round(row["location"].y, 6),
        "url": reverse("sensor-detail", args=[row["id"]]),
    }


def statuses(ids: Iterable[int]) -> None:
    """sensor.status for each device in `ids` (its status now)."""
    with translation.override(settings.LANGUAGE_CODE):
        publish_many(
            [event("sensor.status", _sensor(row), **_keys(row)) for row in _devices(ids).values()]
        )


def alerts(opened: Iterable[SensorAlert] = (), closed: Iterable[SensorAlert] = ()) -> None:
    opened, closed = list(opened), list(closed)
    devices = _devices(a.sensor_id for a in opened + closed)
    with translation.override(settings.LANGUAGE_CODE):
        publish_many(
            [
                event(kind, _alert(a, devices[a.sensor_id]), **_keys(devices[a.sensor_id]))
                for kind, group in (("alert.opened", opened), ("alert.closed", closed))
                for a in group
                if a.sensor_id in devices
            ]
        )


def _alert(alert: SensorAlert, row: dict) -> dict:
    device = _sensor(row)
    return {
        "id": alert.pk,
        "sensor": row["id"],
        "sensor_code": row["code"],
        "sensor_name": device["name"],
        "kind": alert.kind,
        "level": "alarm" if alert.kind in ALARMS else "warning",
        "message": f"{device['name']}: {AlertKind(alert.kind).label}",
        "incident": alert.incident_id,
        "lon": device["lon"],
        "lat": device["lat"],
        "url": device["url"],
    }


def bulk_alerts(
    now: dt.datetime,
    close: list[tuple[int, str]],
    open_: list[tuple[int, str, dt.datetime, str]],
) -> None:
    """The alerts sensors.sql.readings.change_alerts just opened (started at the given time,
    still open) and ended (at `now`)."""
    opened = []
    if open_:
        wanted = {(sid, kind, at) for sid, kind, at, _details in open_}
        opened = [
            a
            for a in SensorAlert.objects.filter(
                sensor_id__in={o[0] for o in open_}, ended_at__isnull=True
            )
            if (a.sensor_id, a.kind, a.started_at) in wanted
        ]
    ended = []
    if close:
        wanted_closed = set(close)
        ended = [
            a
            for a in SensorAlert.objects.filter(sensor_id__in={c[0] for c in close}, ended_at=now)
            if (a.sensor_id, a.kind) in wanted_closed
        ]
    alerts(opened, ended)
