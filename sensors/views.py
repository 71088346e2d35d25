"""The sensor pages people use every day besides the map (#6): the devices they may see with
their status and open alerts, one device with its readings, one broadcast's deliveries.
Data comes only through the scoped querysets and services here; the retry button on a
broadcast posts to the API (/api/sensors/broadcasts/<id>/retry/) from pages.js."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import GRID_CODE_LENGTH, Region
from sensors.models import (
    Delivery,
    DeliveryState,
    Role,
    Sensor,
    SensorAlert,
    Status,
)
from sensors.services import broadcast as broadcasts
from sensors.services import readings
from sensors.services.registry import types_for_district

PAGE_SIZE = 50
OPEN_ALERTS_SHOWN = 20
BROADCASTS_SHOWN = 10
ALERT_HISTORY_SHOWN = 100
# Readings shown in a table row: enough to read a tank's level or a room's temperature.
SUMMARY_VALUES = 3
CHART_DAYS = 7
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 200, 30
MAP_ZOOM = 16


def _area_q(code: str) -> Q:
    """Devices in a grid (by its 15-digit code) or under a region (street, community,
    district); an unknown code matches nothing."""
    if len(code) == GRID_CODE_LENGTH:
        return Q(grid__code=code)
    region = Region.objects.current().filter(code=code).first()
    if region is None:
        return scoping.NOTHING
    return scoping.grid_under_q(region, "grid__")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _summary(values: dict) -> str:
    """A reading's first few values as `name value`, for one table cell."""
    parts = []
    for name, value in list(values.items())[:SUMMARY_VALUES]:
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        parts.append(f"{name} {value}")
    return " · ".join(parts)


@login_required
def sensor_list(request):
    """The devices the user may see: counts by type and status, filters, the table, the
    open alerts and the recent broadcasts. A constant number of queries whatever the page
    holds (test-pinned)."""
    user = request.user
    visible = Sensor.objects.visible_to(user)
    filters = {
        "type": request.GET.get("type") or "",
        "status": request.GET.get("status") or "",
        "area": (request.GET.get("area") or "").strip(),
        "q": (request.GET.get("q") or "").strip(),
    }
    sensors = visible
    if filters["type"]:
        sensors = sensors.filter(type__code=filters["type"])
    if filters["status"] in Status.values:
        sensors = sensors.filter(status=filters["status"])
    if filters["area"]:
        sensors = sensors.filter(_area_q(filters["area"]))
    if filters["q"]:
        sensors = sensors.filter(Q(code__icontains=filters["q"]) | Q(name__icontains=filters["q"]))
    sensors = sensors.select_related("type", "grid", "department").order_by("code")
    page = Paginator(sensors, PAGE_SIZE).get_page(request.GET.get("page"))
    for sensor in page:
        sensor.summary = _summary(sensor.latest) if sensor.latest else ""

    # One GROUP BY for the whole overview, unfiltered: the counts say where to look.
    counted = visible.values("type__code", "type__name", "status").annotate(n=Count("pk"))
    by_type: dict[str, dict] = {}
    for row in counted.order_by("type__code"):
        entry = by_type.setdefault(
            row["type__code"], {"code": row["type__code"], "name": row["type__name"], "total": 0}
        )
        entry[row["status"]] = row["n"]
        entry["total"] += row["n"]
    counts = [
        {**entry, "cells": [(value, entry.get(value, 0)) for value in Status.values]}
        for entry in by_type.values()
    ]
    totals = [(value, sum(entry.get(value, 0) for entry in counts)) for value in Status.values]

    alerts = (
        SensorAlert.objects.filter(ended_at__isnull=True, sensor__in=visible)
        .select_related("sensor")
        .order_by("-started_at", "-pk")
    )
    broadcast_list = broadcasts.with_counts(broadcasts.visible_broadcasts(user)).order_by(
        "-created_at", "-pk"
    )
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "sensors/list.html",
        {
            "page": page,
            "filters": filters,
            "query": urlencode(query),
            "counts": counts,
            "totals": totals,
            "statuses": Status.choices,
            "types": types_for_district(scoping.user_district(user)).values_list("code", "name"),
            "regions": Region.objects.visible_to(user)
            .current()
            .order_by("code")
            .values_list("code", "name"),
            "alerts": list(alerts[:OPEN_ALERTS_SHOWN]),
            "alert_total": alerts.count(),
            "broadcasts": list(broadcast_list[:BROADCASTS_SHOWN]),
            "now": timezone.now(),
        },
    )


@dataclass
class Chart:
    """A server-drawn line of one numeric reading over the last days."""

    key: str
    points: str  # the SVG polyline's points, oldest first
    count: int
    low: float
    high: float
    since: dt.datetime
    until: dt.datetime
    last: float | None
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    pad: int = CHART_PAD

    @property
    def bottom(self) -> int:
        return self.height - self.pad

    @property
    def right(self) -> int:
        return self.width - self.pad


def numeric_key(readings_schema: dict) -> str | None:
    """The first number the type's readings carry, the one the detail page draws."""
    for name, spec in (readings_schema.get("properties") or {}).items():
        if isinstance(spec, dict) and spec.get("type") in ("number", "integer"):
            return name
    return None


def _chart(sensor: Sensor) -> Chart | None:
    key = numeric_key(sensor.type.readings_schema)
    if key is None:
        return None
    now = timezone.now()
    since = now - dt.timedelta(days=CHART_DAYS)
    rows = readings.series(sensor, since=since)
    values = [(row["at"], row["values"].get(key)) for row in reversed(rows)]
    values = [(at, value) for at, value in values if _is_number(value)]
    until = max([now, *(at for at, _v in values)])
    spec = sensor.type.readings_schema["properties"][key]
    seen = [value for _at, value in values]
    # The schema's range when it has one (a level in %), else the values' own.
    low = spec.get("minimum", min(seen, default=0))
    high = spec.get("maximum", max(seen, default=1))
    if high <= low:
        low, high = low - 1, high + 1
    span = (until - since).total_seconds()
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    points = " ".join(
        f"{CHART_PAD + (at - since).total_seconds() / span * inner_w:.1f},"
        f"{CHART_HEIGHT - CHART_PAD - (value - low) / (high - low) * inner_h:.1f}"
        for at, value in values
    )
    return Chart(
        key=key,
        points=points,
        count=len(values),
        low=low,
        high=high,
        since=since,
        until=until,
        last=seen[-1] if seen else None,
    )


def _properties(sensor: Sensor) -> list[tuple[str, object, str]]:
    """(name, value, unit) in the order of the type's schema, then any others."""
    schema = sensor.type.properties_schema.get("properties") or {}
    values = sensor.properties or {}
    shown = [
        (name, values[name], (spec or {}).get("description", ""))
        for name, spec in schema.items()
        if name in values
    ]
    shown += [(name, value, "") for name, value in values.items() if name not in schema]
    return [
        (name, (_("yes") if value else _("no")) if isinstance(value, bool) else value, unit)
        for name, value, unit in shown
    ]


def _reach(sensor: Sensor) -> list[tuple[str, object, str]]:
    """What the device reaches on the ground, as fire response uses it."""
    p = sensor.properties or {}
    if sensor.role == Role.CAMERA:
        return [
            (_("Bearing"), p.get("bearing"), "°"),
            (_("Field of view"), p.get("fov"), "°"),
            (_("Range"), p.get("range"), "m"),
        ]
    if sensor.role == Role.VOICE_POLE:
        return [(_("Broadcast radius"), p.get("broadcast_radius"), "m")]
    return []


def _map_url(sensor: Sensor) -> str:
    """The command-centre map centred on the device (map.js reads lon, lat and z)."""
    lon, lat = sensor.location.x, sensor.location.y
    return "/?" + urlencode({"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "z": MAP_ZOOM})


@login_required
def sensor_detail(request, pk: int):
    """One device: its type and properties, status, place, what it covers, its alerts and
    a chart of its last week's readings."""
    sensor = get_object_or_404(
        Sensor.objects.visible_to(request.user).select_related(
            "type", "grid", "grid__community", "department", "gateway", "district"
        ),
        pk=pk,
    )
    alerts = sensor.alerts.select_related("incident").order_by("-started_at", "-pk")
    return render(
        request,
        "sensors/detail.html",
        {
            "sensor": sensor,
            "properties": _properties(sensor),
            "reach": _reach(sensor),
            "alerts": list(alerts[:ALERT_HISTORY_SHOWN]),
            "chart": _chart(sensor),
            "latest": _summary(sensor.latest) if sensor.latest else "",
            "map_url": _map_url(sensor),
        },
    )


@login_required
def broadcast_detail(request, pk: int):
    """One broadcast: every pole's delivery with its state, tries and last error; staff who
    may broadcast put the failed ones back in the queue."""
    user = request.user
    found = get_object_or_404(
        broadcasts.with_counts(broadcasts.visible_broadcasts(user)).select_related(
            "created_by", "incident"
        ),
        pk=pk,
    )
    deliveries = (
        Delivery.objects.filter(broadcast=found).select_related("pole").order_by("pole__code", "pk")
    )
    return render(
        request,
        "sensors/broadcast.html",
        {
            "broadcast": found,
            "deliveries": deliveries,
            "states": [
                (value, label, getattr(found, f"n_{value}"))
                for value, label in DeliveryState.choices
            ],
            "may_retry": broadcasts.may_broadcast(user),
            "retry_url": f"/api/sensors/broadcasts/{found.pk}/retry/",
        },
    )
