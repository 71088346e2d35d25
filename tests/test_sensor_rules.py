"""Rules found in review: where a device may be moved, whose departments and types apply,
what a district's own camera type must ask for, and retired types' devices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from grids.models import Department, Level, Region
from grids.problems import ProblemsError
from maps import registry as map_registry
from maps.tiles import BadFilter, parse_filters
from sensors.models import Sensor, SensorType, Status
from sensors.services import health, types
from sensors.services.registry import SensorSpec, create_sensor, update_sensor
from tests.conftest import centre_of

pytestmark = pytest.mark.django_db
CAMERA = {"bearing": 90, "fov": 60, "range": 200}


@pytest.fixture
def camera(tree, users):
    return create_sensor(
        SensorSpec(
            code="CAM-1",
            type="camera",
            location=centre_of(tree.grids[(1, 1, 1)]),
            properties=CAMERA,
        ),
        user=users.street,
    )


@pytest.fixture
def other_district():
    return Region.objects.create(level=Level.DISTRICT, code="500119", name="南川区")


def codes(error: ProblemsError) -> dict[str | None, str]:
    return {problem.field: problem.code for problem in error.problems}


def test_a_device_is_not_moved_out_of_the_users_jurisdiction(tree, users, camera):
    before = Sensor.objects.get(pk=camera.pk).location
    with pytest.raises(ProblemsError) as into_other_street:
        update_sensor(camera, location=centre_of(tree.grids[(2, 2, 2)]), user=users.street)
    with pytest.raises(ProblemsError) as nowhere:
        update_sensor(camera, location=Point(120.0, 30.0, srid=4326), user=users.street)
    assert codes(into_other_street.value) == {"location": "outside_jurisdiction"}
    assert codes(nowhere.value) == {"location": "outside_district"}
    assert Sensor.objects.get(pk=camera.pk).location == before


def test_within_the_jurisdiction_the_grid_follows_the_move(tree, users, camera):
    moved = update_sensor(camera, location=centre_of(tree.grids[(1, 1, 2)]), user=users.street)
    assert moved.grid == tree.grids[(1, 1, 2)]
    assert moved.district == tree.district


def test_a_department_of_another_district_is_unknown_here(tree, users, other_district):
    Department.objects.create(code="forest-b", name="林业局", district=other_district)
    spec = SensorSpec(
        code="T-1",
        type="water_tank",
        location=centre_of(tree.grids[(1, 1, 1)]),
        properties={"capacity_m3": 50},
        department="forest-b",
    )
    with pytest.raises(ProblemsError) as refused:
        create_sensor(spec, user=users.district)
    assert codes(refused.value) == {"department": "unknown_department"}


def test_a_district_camera_type_must_ask_for_its_sector(users):
    with pytest.raises(ProblemsError) as refused:
        types.create_type(
            code="thermal",
            user=users.district,
            name="热成像",
            role="camera",
            properties_schema={"type": "object"},
        )
    assert set(codes(refused.value)) == {
        "properties_schema.properties.bearing",
        "properties_schema.properties.fov",
        "properties_schema.properties.range",
    }
    made = types.create_type(
        code="thermal",
        user=users.district,
        name="热成像",
        role="camera",
        properties_schema=SensorType.objects.get(code="camera").properties_schema,
    )
    # A pole type cannot drop its radius afterwards either.
    with pytest.raises(ProblemsError):
        types.update_type(made, user=users.district, role="voice_pole")
    assert made.role == "camera"


def test_devices_of_a_retired_type_go_offline_by_its_own_silence(tree, users):
    retired = types.create_type(
        code="old-smoke",
        user=users.district,
        name="旧烟感",
        role="detector",
        properties_schema={"type": "object"},
        offline_after=dt.timedelta(seconds=60),
    )
    sensor = create_sensor(
        SensorSpec(
            code="OLD-1",
            type="old-smoke",
            location=centre_of(tree.grids[(1, 1, 1)]),
            status=Status.ONLINE,
        )
    )
    SensorType.objects.filter(pk=retired.pk).update(active=False)
    Sensor.objects.filter(pk=sensor.pk).update(
        last_seen_at=timezone.now() - dt.timedelta(seconds=300)
    )
    assert health.sweep_offline() == 1
    assert Sensor.objects.get(pk=sensor.pk).status == Status.OFFLINE


def test_the_map_offers_the_users_district_types_only(tree, users, other_district):
    SensorType.objects.create(code="b-only", name="B区设备", district=other_district)
    SensorType.objects.create(
        code="a-retired", name="A区旧设备", district=tree.district, active=False
    )
    layer = map_registry.get("sensors")
    offered = {code for code, _name in layer.filters["type"].choices(users.district)}
    assert "a-retired" in offered and "camera" in offered and "b-only" not in offered
    with pytest.raises(BadFilter):
        parse_filters(layer, _Params({"type": ["b-only"]}), users.district)


class _Params(dict):
    def lists(self):
        return self.items()
