"""Camera coverage of grids, kept fresh as cameras change, and sensor figures in 一表通."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from pyproj import Geod

from reports import derived
from reports.derived import Context
from reports.models import Indicator
from reports.periods import Period
from sensors.models import GridCoverage, Sensor, Status
from sensors.services.coverage import refresh_coverage, refresh_stale
from sensors.services.registry import SensorSpec, create_sensor, update_sensor
from tests.conftest import X0, Y0, centre_of

GEOD = Geod(ellps="WGS84")
URL = "/api/sensors/coverage/"
_n = iter(range(1, 10_000))


def add(type_code: str, location: Point, **kwargs) -> Sensor:
    properties = {
        "camera": {"bearing": 0, "fov": 360, "range": 100},
        "voice_pole": {"broadcast_radius": 300},
        "water_tank": {"capacity_m3": 100},
    }.get(type_code, {})
    return create_sensor(
        SensorSpec(
            code=f"{type_code}-{next(_n)}",
            type=type_code,
            location=location,
            properties=kwargs.pop("properties", properties),
            status=kwargs.pop("status", Status.ONLINE),
            installed_on=kwargs.pop("installed_on", None),
        )
    )


def grid_area(grid) -> float:
    (polygon,) = grid.boundary_on()
    lons, lats = zip(*polygon.exterior_ring.coords, strict=True)
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0])


def coverage(grid) -> GridCoverage:
    return GridCoverage.objects.get(grid=grid)


def test_a_grid_half_covered(tree):
    grid = tree.grids[(1, 1, 1)]  # lon 105.900-105.925: its west edge is the district's
    area = grid_area(grid)
    # A 360° camera on the west edge sees a circle of half the grid's area; half of it
    # (in the neighbour district) is outside the grid.
    on_edge = Point(X0, Y0 + 0.025, srid=4326)
    add(
        "camera", on_edge, properties={"bearing": 0, "fov": 360, "range": math.sqrt(area / math.pi)}
    )

    assert refresh_coverage([grid.pk]) == 1

    row = coverage(grid)
    assert row.share == pytest.approx(0.5, abs=0.005)
    assert row.area_m2 == pytest.approx(area, rel=1e-6)
    assert row.covered_m2 == pytest.approx(area / 2, rel=0.01)
    assert (row.cameras, row.stale) == (1, False)


def test_a_grid_without_camera_is_a_gap(tree, users, api):
    add("camera", centre_of(tree.grids[(1, 1, 1)]))
    add("water_tank", centre_of(tree.grids[(1, 1, 2)]))

    assert refresh_coverage() == len(tree.grids)

    body = api(users.admin).get(URL).json()
    rows = {row["code"]: row for row in body["results"]}
    seen, bare = rows["500118001001001"], rows["500118001001002"]
    assert (seen["gap"], seen["cameras"]) == (False, 1) and 0 < seen["share"] < 0.01
    assert (bare["gap"], bare["share"], bare["cameras"]) == (True, 0, 0)
    assert body["totals"]["grids"] == body["totals"]["computed"] == 8
    assert body["totals"]["gaps"] == 7


def test_a_moved_camera_makes_old_and_new_grids_stale_until_refreshed(tree):
    first, second, third = (tree.grids[key] for key in [(1, 1, 1), (2, 2, 2), (1, 2, 1)])
    camera = add("camera", centre_of(first))
    refresh_coverage()
    assert not GridCoverage.objects.filter(stale=True).exists()

    update_sensor(camera, location=centre_of(second))

    stale = set(GridCoverage.objects.filter(stale=True).values_list("grid_id", flat=True))
    assert stale == {first.pk, second.pk}
    assert refresh_stale() == 2
    assert (coverage(first).cameras, coverage(second).cameras) == (0, 1)
    assert coverage(first).share == 0 and coverage(second).share > 0
    assert refresh_stale() == 0

    update_sensor(camera, name="新名字", status=Status.MAINTENANCE)  # sees the same ground
    assert not GridCoverage.objects.filter(stale=True).exists()

    Sensor.objects.get(pk=camera.pk).delete()
    assert set(GridCoverage.objects.filter(stale=True).values_list("grid_id", flat=True)) == {
        second.pk
    }
    add("camera", centre_of(third))
    assert refresh_stale() == 2
    assert (coverage(second).cameras, coverage(third).cameras) == (0, 1)


def test_refresh_stale_computes_grids_never_computed(tree):
    assert refresh_stale() == len(tree.grids)
    assert refresh_stale() == 0


def test_the_api_lists_the_grids_the_user_sees(tree, users, api, django_assert_num_queries):
    refresh_coverage([tree.grids[(1, 1, 1)].pk])  # the other grids are not computed yet
    client = api(users.street)
    client.get(URL)  # the user's region is read once and kept on the user

    with django_assert_num_queries(1):
        body = client.get(URL).json()

    assert {row["code"][:9] for row in body["results"]} == {"500118001"}
    assert len(body["results"]) == 4
    pending = [row for row in body["results"] if row["share"] is None]
    assert len(pending) == 3 and all(row["stale"] and row["gap"] is None for row in pending)
    assert (body["totals"]["grids"], body["totals"]["computed"]) == (4, 1)

    one = api(users.worker).get(URL).json()
    assert [row["code"] for row in one["results"]] == ["500118001001001"]


def test_the_api_filters_by_region(tree, users, api):
    community = tree.communities[(2, 1)]

    body = api(users.district).get(URL, {"region": community.pk}).json()

    assert [row["code"] for row in body["results"]] == ["500118002001001", "500118002001002"]
    assert api(users.street).get(URL, {"region": community.pk}).status_code == 404
    bad = api(users.district).get(URL, {"region": "east"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "region"


# --- 一表通 -----------------------------------------------------------------------------------


def context(tree, on: dt.date | None = None) -> Context:
    period = Period.containing(on or timezone.localdate(), "month")
    return Context(period=period, grid_ids=[g.pk for g in tree.grids.values()])


def value(key: str, ctx: Context) -> dict:
    return derived.get(key).compute(ctx)


def test_sensors_counted_per_grid_by_type(tree):
    here, there = tree.grids[(1, 1, 1)], tree.grids[(2, 1, 2)]
    today = timezone.localdate()
    add("camera", centre_of(here))
    add("camera", centre_of(here), installed_on=today - dt.timedelta(days=400))
    add("camera", centre_of(there), installed_on=today)
    add("voice_pole", centre_of(here))
    add("water_tank", centre_of(there))
    add("smoke_detector", centre_of(here))
    add("smoke_detector", centre_of(here))
    add("temp_humidity", centre_of(there))

    now = context(tree)
    assert value("sensors_camera", now) == {here.pk: 2, there.pk: 1}
    assert value("sensors_voice_pole", now) == {here.pk: 1}
    assert value("sensors_water_tank", now) == {there.pk: 1}
    assert value("sensors_smoke_detector", now) == {here.pk: 2}
    assert value("sensors_temp_humidity", now) == {there.pk: 1}
    # A year ago: the camera installed today was not there; those with no date count.
    past = context(tree, today - dt.timedelta(days=365))
    assert value("sensors_camera", past) == {here.pk: 2}
    assert derived.compute("sensors_water_tank", now)[here.pk] == 0  # counted: 0, not none


def test_share_online_and_camera_coverage_now(tree):
    here, there = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    add("camera", centre_of(here), status=Status.ONLINE)
    add("water_tank", centre_of(here), status=Status.OFFLINE)
    add("smoke_detector", centre_of(here), status=Status.FAULT)
    add("smoke_detector", centre_of(there), status=Status.ONLINE)
    refresh_coverage()

    now = context(tree)
    online = value("sensors_online_share", now)
    assert online == {here.pk: pytest.approx(33.3), there.pk: 100}
    shares = value("camera_coverage_share", now)
    assert 0 < shares[here.pk] < 1 and shares[there.pk] == 0
    assert len(shares) == len(tree.grids)
    # No history of status or coverage is kept: a past period has no value, not a wrong one.
    past = context(tree, timezone.localdate() - dt.timedelta(days=62))
    assert value("sensors_online_share", past) == {}
    assert value("camera_coverage_share", past) == {}


def test_the_indicators_exist_after_migrate(db):
    codes = set(Indicator.objects.derived().values_list("code", flat=True))

    assert {
        "SAFE_CAMERAS",
        "SAFE_VOICE_POLES",
        "SAFE_WATER_TANKS",
        "SAFE_SMOKE_DETECTORS",
        "SAFE_TEMP_HUMIDITY",
        "SAFE_SENSORS_ONLINE",
        "SAFE_CAMERA_COVERAGE",
    } <= codes
