"""The demo's sensors: the forest street's exact counts, devices of every role keyed to
grids, coverage polygons, readings, gateways with working tokens, and a rebuild that
replaces rather than adds."""

from __future__ import annotations

import pytest
from django.db.models import Count

from sensors.models import Gateway, GridCoverage, Reading, Role, Sensor
from sensors.services import demo
from sensors.services.registry import holder_of

pytestmark = pytest.mark.django_db


def demo_sensors():
    return Sensor.objects.filter(code__startswith=demo.DEMO_PREFIX)


def by_role(queryset) -> dict[str, int]:
    return dict(queryset.order_by().values_list("role").annotate(n=Count("pk")))


def in_forest():
    return demo_sensors().filter(grid__community__parent__name=demo.FOREST_STREET)


def test_manage_py_demo_builds_the_sensors(district):
    total, forest = demo.totals_for(3000)
    assert demo_sensors().count() == total
    assert "Sensors" in district or "sensors" in district
    roles = by_role(demo_sensors())
    assert set(roles) == {Role.CAMERA, Role.VOICE_POLE, Role.WATER_TANK, Role.DETECTOR}
    assert by_role(in_forest()) == forest
    # Keyed to their grids (a handful of urban ones may stand just outside the district).
    assert demo_sensors().filter(grid__isnull=True).count() <= total * 0.01
    # Cameras and poles reach the ground around them; the others have no coverage.
    assert (
        not demo_sensors().filter(role__in=[Role.CAMERA, Role.VOICE_POLE], coverage=None).exists()
    )
    assert (
        not demo_sensors()
        .filter(role__in=[Role.WATER_TANK, Role.DETECTOR])
        .exclude(coverage=None)
        .exists()
    )
    forest_owner = set(in_forest().values_list("department__code", flat=True))
    assert forest_owner == {demo.FOREST_OWNER}
    # Most devices are online and heard from lately; some are not.
    statuses = dict(demo_sensors().order_by().values_list("status").annotate(n=Count("pk")))
    assert statuses["online"] > 0.9 * total
    assert statuses.get("offline", 0) + statuses.get("fault", 0) > 0
    # Every water tank has readings, its latest level equal to its current one.
    tank = demo_sensors().filter(role=Role.WATER_TANK).first()
    assert Reading.objects.filter(sensor=tank).count() > 24
    assert tank.latest["level_pct"] == tank.properties["level_pct"]
    assert GridCoverage.objects.filter(cameras__gt=0).exists()


def test_a_rebuild_replaces_the_demo_sensors_and_issues_tokens(district):
    before = set(demo_sensors().values_list("code", flat=True))
    readings = Reading.objects.count()
    tokens: dict[str, str] = {}
    result = demo.build(3000, tokens=tokens)
    assert set(demo_sensors().values_list("code", flat=True)) == before
    assert result.sensors == len(before)
    assert Reading.objects.count() == readings == result.readings
    assert set(tokens) == {code for code, _name, _dept in demo.GATEWAYS}
    gateway = holder_of(tokens["demo-broadcast"])
    assert isinstance(gateway, Gateway) and gateway.code == "demo-broadcast"
    assert (
        Sensor.objects.filter(gateway=gateway, role=Role.VOICE_POLE).count() == result.voice_poles
    )


def test_the_named_scales_give_the_forest_street_its_exact_devices(district):
    result = demo.build("small")
    assert result.sensors == demo.TOTALS["small"]
    assert by_role(in_forest()) == {"camera": 1657, "voice_pole": 73, "water_tank": 58}
    assert result.forest_cameras == 1657
    ptz = in_forest().filter(role=Role.CAMERA, properties__ptz=True).count()
    assert 0.05 * 1657 < ptz < 0.15 * 1657
    assert demo.totals_for("full") == (500_000, demo.FOREST)
