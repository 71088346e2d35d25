"""The demo gateways' simulator keeps the demo's online devices online through the real
ingest path, and does nothing unless it is switched on."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from sensors.models import Gateway, Sensor, Status
from sensors.services import health, simulator
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_gateway(tree):
    district = tree.grids[(1, 1, 1)].community.parent.parent
    gateway = Gateway.objects.create(code="demo-iot", name="demo", district=district)
    spot = centre_of(tree.grids[(1, 1, 1)])
    long_ago = timezone.now() - dt.timedelta(hours=2)
    made = {}
    for code, kind, status, properties in [
        ("YC-TANK-1", "water_tank", Status.ONLINE, {"capacity_m3": 100, "level_pct": 60}),
        ("YC-SMOKE-1", "smoke_detector", Status.ONLINE, {}),
        ("YC-SMOKE-2", "smoke_detector", Status.OFFLINE, {}),
    ]:
        sensor = create_sensor(
            SensorSpec(code=code, type=kind, location=spot, properties=properties, status=status)
        )
        Sensor.objects.filter(pk=sensor.pk).update(gateway=gateway, last_seen_at=long_ago)
        made[code] = sensor
    return made


def test_off_by_default(demo_gateway):
    assert simulator.simulate() == 0
    assert Sensor.objects.get(code="YC-SMOKE-1").last_seen_at < timezone.now() - dt.timedelta(
        hours=1
    )


@override_settings(GRIDLINE_DEMO_SIMULATOR=True)
def test_keeps_online_devices_online_and_leaves_the_down_ones(demo_gateway):
    assert simulator.simulate(seed=1) == 2
    tank = Sensor.objects.get(code="YC-TANK-1")
    assert tank.latest_at is not None and 5 <= tank.latest["level_pct"] <= 100
    # The sweep finds nothing silent among the simulated devices.
    assert health.sweep_offline() == 0
    assert Sensor.objects.get(code="YC-SMOKE-1").status == Status.ONLINE
    assert Sensor.objects.get(code="YC-SMOKE-2").status == Status.OFFLINE
