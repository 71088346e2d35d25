"""The demo's gateways, simulated: without it a demo district's devices fall silent the
moment it is built, and after GRIDLINE_SENSOR_OFFLINE_AFTER the offline sweep turns them all
offline with an alert each.

Only with GRIDLINE_DEMO_SIMULATOR on (`./gridline up` turns it on when it serves the demo)
and only for the demo's own gateways (codes `demo-…`): every few minutes each sends, through
the real ingest path (`ingest.ingest`, the same checks and writes as HTTP), a heartbeat for
its devices that are online, a slowly falling or refilled level for its water tanks and the
time of day's temperature and humidity. Devices the demo made offline, faulty or under
maintenance stay as they are, so the map keeps its few grey and red symbols.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from django.conf import settings
from django.utils import timezone

from sensors.models import Gateway, Role, Sensor, Status
from sensors.services import ingest

DEMO_GATEWAYS = "demo-"
DEMO_SENSORS = "YC-"


def _level(rng, latest: dict) -> float:
    level = (latest or {}).get("level_pct", 80.0)
    # Tanks lose a little to evaporation and use; a low one is refilled by the team.
    level = 95.0 if level < 25 and rng.random() < 0.3 else level - rng.uniform(0, 0.4)
    return round(max(5.0, min(100.0, level)), 1)


def _climate(rng, now: dt.datetime) -> dict:
    hour = timezone.localtime(now).hour + timezone.localtime(now).minute / 60
    daily = math.sin((hour - 9) / 24 * 2 * math.pi)
    return {
        "temperature_c": round(18 + 7 * daily + rng.normal(0, 0.8), 1),
        "humidity_pct": round(min(100.0, max(20.0, 70 - 15 * daily + rng.normal(0, 3))), 1),
    }


def simulate(now: dt.datetime | None = None, *, seed: int | None = None) -> int:
    """One round of the demo gateways' traffic; returns the rows sent. Does nothing unless
    GRIDLINE_DEMO_SIMULATOR is on."""
    if not settings.GRIDLINE_DEMO_SIMULATOR:
        return 0
    now = now or timezone.now()
    at = now.replace(microsecond=0).isoformat()
    rng = np.random.default_rng(seed)
    sent = 0
    for gateway in Gateway.objects.filter(code__startswith=DEMO_GATEWAYS, active=True):
        devices = (
            Sensor.objects.filter(
                gateway=gateway, code__startswith=DEMO_SENSORS, status=Status.ONLINE
            )
            .order_by("pk")
            .values_list("code", "role", "type__code", "latest")
        )
        readings, heartbeats = [], []
        for code, role, type_code, latest in devices.iterator(chunk_size=5000):
            if role == Role.WATER_TANK:
                values = {"level_pct": _level(rng, latest)}
                readings.append({"sensor": code, "at": at, "values": values})
            elif type_code == "temp_humidity":
                readings.append({"sensor": code, "at": at, "values": _climate(rng, now)})
            else:
                heartbeats.append({"sensor": code, "at": at})
        size = settings.GRIDLINE_INGEST_MAX_ROWS
        for key, rows in (("readings", readings), ("heartbeats", heartbeats)):
            for start in range(0, len(rows), size):
                result = ingest.ingest(gateway, {key: rows[start : start + size]}, now=now)
                sent += result.readings + result.heartbeats
    return sent
