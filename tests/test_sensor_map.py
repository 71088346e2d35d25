"""The sensor layers of the command-centre map: device points with their attributes, filters
by type and status (refused when unknown), scoping, counts per grid at low zoom, and the
camera coverage choropleth."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from sensors.models import GridCoverage
from sensors.services import coverage
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of
from tests.test_tiles import features, tile_of


@pytest.fixture
def client_for():
    def make(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


def near(point: Point, dx: float = 0.0, dy: float = 0.0) -> Point:
    return Point(point.x + dx, point.y + dy, srid=4326)


@pytest.fixture
def devices(tree, users):
    """In grid (1,1,1): an online camera, an offline water tank, a voice pole in fault; in
    grid (2,2,2): an online smoke detector owned by the civil-affairs department."""
    here = centre_of(tree.grids[(1, 1, 1)])
    there = centre_of(tree.grids[(2, 2, 2)])
    make = create_sensor
    return {
        "camera": make(
            SensorSpec(
                code="CAM-1",
                type="camera",
                name="东门监控",
                location=here,
                properties={"bearing": 90, "fov": 90, "range": 300},
                status="online",
            )
        ),
        "tank": make(
            SensorSpec(
                code="WT-1",
                type="water_tank",
                name="一号水池",
                location=near(here, 0.001),
                properties={"capacity_m3": 200, "level_pct": 80},
                status="offline",
            )
        ),
        "pole": make(
            SensorSpec(
                code="VP-1",
                type="voice_pole",
                name="广播杆一",
                location=near(here, -0.001),
                properties={"broadcast_radius": 500},
                status="fault",
            )
        ),
        "detector": make(
            SensorSpec(
                code="SD-1",
                type="smoke_detector",
                location=there,
                department="civil-affairs",
                status="online",
            )
        ),
    }


def tile(client, layer: str, point: Point, z: int, query: str = ""):
    z, x, y = tile_of(point.x, point.y, z)
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf{query}")


def codes(response, layer: str = "sensors") -> set[str]:
    assert response.status_code == 200, response.content
    return {f["properties"]["code"] for f in features(response, layer)}


def test_devices_are_points_with_their_type_role_status_and_symbol(client_for, users, devices):
    camera = devices["camera"]
    response = tile(client_for(users.admin), "sensors", camera.location, 16)
    found = {f["properties"]["code"]: f for f in features(response, "sensors")}
    assert set(found) == {"CAM-1", "WT-1", "VP-1"}
    props = found["CAM-1"]["properties"]
    assert found["CAM-1"]["id"] == camera.pk
    assert props["id"] == camera.pk
    assert props["name"] == "东门监控"
    assert (props["type_code"], props["role"], props["status"]) == ("camera", "camera", "online")
    assert props["symbol"] == camera.type.symbol and props["colour"] == camera.type.colour
    assert found["WT-1"]["properties"]["status"] == "offline"
    assert found["WT-1"]["properties"]["role"] == "water_tank"


def test_filters_by_type_and_status(client_for, users, devices):
    admin = client_for(users.admin)
    at = devices["camera"].location
    assert codes(tile(admin, "sensors", at, 16, "?type=camera")) == {"CAM-1"}
    assert codes(tile(admin, "sensors", at, 16, "?type=camera&type=water_tank")) == {
        "CAM-1",
        "WT-1",
    }
    assert codes(tile(admin, "sensors", at, 16, "?status=offline&status=fault")) == {
        "WT-1",
        "VP-1",
    }
    assert codes(tile(admin, "sensors", at, 16, "?type=camera&status=offline")) == set()
    # The same choice in another order is the same tile.
    first = tile(admin, "sensors", at, 16, "?status=fault&status=offline")
    second = tile(admin, "sensors", at, 16, "?status=offline&status=fault")
    assert first["ETag"] == second["ETag"]
    assert tile(admin, "sensors", at, 16)["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("?kind=camera", "kind"),
        ("?type=hydrant", "type"),
        ("?status=broken", "status"),
        ("?type=camera&status=", "status"),
    ],
)
def test_an_unknown_filter_or_value_is_400_naming_it(client_for, users, devices, query, field):
    response = tile(client_for(users.admin), "sensors", devices["camera"].location, 16, query)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["errors"][0]["code"] == "bad_filter"
    assert body["errors"][0]["field"] == field


def test_a_layer_without_filters_refuses_parameters(client_for, users, tree):
    response = tile(client_for(users.admin), "grids", centre_of(tree.grids[(1, 1, 1)]), 13, "?x=1")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "x"


def test_tiles_are_scoped(client_for, users, devices, tree):
    here = devices["camera"].location
    there = devices["detector"].location
    worker = client_for(users.worker)  # grid (1,1,1)
    assert codes(tile(worker, "sensors", here, 16)) == {"CAM-1", "WT-1", "VP-1"}
    assert codes(tile(worker, "sensors", there, 16)) == set()
    other = client_for(users.other_worker)  # grid (2,2,2)
    assert codes(tile(other, "sensors", here, 16)) == set()
    assert codes(tile(other, "sensors", there, 16)) == {"SD-1"}
    community = client_for(users.community)  # community (1,1)
    assert codes(tile(community, "sensors", here, 16)) == {"CAM-1", "WT-1", "VP-1"}
    assert codes(tile(community, "sensors", there, 16)) == set()
    assert codes(tile(client_for(users.department), "sensors", there, 16)) == {"SD-1"}


def test_below_zoom_14_each_grid_is_one_point_with_its_counts(client_for, users, devices, tree):
    admin = client_for(users.admin)
    at = devices["camera"].location
    found = {
        f["properties"]["code"]: f["properties"]
        for f in features(tile(admin, "sensors", at, 12), "sensors")
    }
    one = tree.grids[(1, 1, 1)]
    assert found[one.code]["n"] == 3
    assert found[one.code]["down"] == 2  # the offline tank and the pole in fault
    assert found[one.code]["id"] == one.pk
    assert found[tree.grids[(2, 2, 2)].code]["n"] == 1
    # The filters apply to the counts too; a grid left with none is left out.
    filtered = tile(admin, "sensors", at, 12, "?type=water_tank&type=camera")
    counts = {f["properties"]["code"]: f["properties"]["n"] for f in features(filtered, "sensors")}
    assert counts == {one.code: 2}
    # And the counts are the user's: the worker of (1,1,1) sees only their grid.
    mine = features(tile(client_for(users.worker), "sensors", at, 12), "sensors")
    assert [f["properties"]["code"] for f in mine] == [one.code]


def test_an_added_device_is_in_the_next_tile(
    client_for, users, devices, django_capture_on_commit_callbacks
):
    admin = client_for(users.admin)
    at = devices["camera"].location
    assert "CAM-2" not in codes(tile(admin, "sensors", at, 16, "?type=camera"))
    with django_capture_on_commit_callbacks(execute=True):
        create_sensor(
            SensorSpec(
                code="CAM-2",
                type="camera",
                location=near(at, 0.0005),
                properties={"bearing": 0, "fov": 60, "range": 200},
            )
        )
    assert "CAM-2" in codes(tile(admin, "sensors", at, 16, "?type=camera"))


def test_camera_coverage_colours_grids_and_flags_those_without(client_for, users, devices, tree):
    coverage.refresh_coverage()
    assert GridCoverage.objects.count() == len(tree.grids)
    one = tree.grids[(1, 1, 1)]
    response = tile(client_for(users.admin), "camera_coverage", centre_of(one), 13)
    found = {
        f["properties"]["code"]: f["properties"] for f in features(response, "camera_coverage")
    }
    assert found[one.code]["cameras"] == 1
    assert 0 < found[one.code]["share"] < 1
    assert found[one.code]["gap"] is False
    assert found[one.code]["name"] == one.name
    two = tree.grids[(1, 1, 2)]
    assert found[two.code]["gap"] is True and found[two.code]["share"] == 0
    # A grid whose coverage was never computed is a gap too.
    GridCoverage.objects.filter(grid=one).delete()
    response = tile(client_for(users.admin), "camera_coverage", centre_of(one), 13)
    found = {
        f["properties"]["code"]: f["properties"] for f in features(response, "camera_coverage")
    }
    assert found[one.code]["gap"] is True and found[one.code]["cameras"] == 0


def test_camera_sectors_only_at_street_zoom(client_for, users, devices):
    admin = client_for(users.admin)
    at = devices["camera"].location
    sectors = features(tile(admin, "camera_sectors", at, 16), "camera_sectors")
    assert [f["properties"]["code"] for f in sectors] == ["CAM-1"]
    assert sectors[0]["geometry"]["type"] == "Polygon"


def style_of(client, query: str = "") -> dict:
    response = client.get(f"/api/map/style.json{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_style_carries_the_sensor_layers_filters_module_and_link(client_for, users, devices):
    style = style_of(client_for(users.street))
    meta = {m["name"]: m for m in style["metadata"]["gridline"]["layers"]}
    sensors = meta["sensors"]
    assert {"camera", "voice_pole", "water_tank"} <= {
        v for v, _ in sensors["filters"]["type"]["choices"]
    }
    assert [v for v, _ in sensors["filters"]["status"]["choices"]] == [
        "online",
        "offline",
        "fault",
        "maintenance",
    ]
    assert {v for v, _ in sensors["filters"]["role"]["choices"]} == {
        "camera",
        "voice_pole",
        "water_tank",
        "detector",
        "other",
    }
    assert sensors["module"].endswith("/sensors/map-layer.js")
    assert sensors["link"] == "/sensors/{fid}/"
    # Alarm red only for faults; the statuses the module draws its symbols in.
    assert sensors["style"]["statuses"]["fault"] == "#d7301f"
    assert "#d7301f" not in {sensors["style"]["statuses"][s] for s in ("online", "offline")}
    ids = [layer["id"] for layer in style["layers"]]
    for name in ("sensors", "camera_coverage", "camera_sectors"):
        mine = [layer for layer in style["layers"] if layer.get("source-layer") == name]
        assert mine and all(layer["id"].startswith(f"{name}-") for layer in mine)
        assert all(layer["source"] == "gridline" for layer in mine)
    assert ids.index("sensors-count") < ids.index("sensors-symbol")


def test_the_legend_explains_counts_below_and_symbols_above_the_aggregation_zoom(
    client_for, users, devices
):
    style = style_of(client_for(users.street))
    sensors = next(m for m in style["metadata"]["gridline"]["layers"] if m["name"] == "sensors")
    shown = lambda z: [  # noqa: E731
        e["label"]
        for e in sensors["legend"]
        if (e["min_zoom"] is None or z >= e["min_zoom"])
        and (e["max_zoom"] is None or z < e["max_zoom"])
    ]
    assert shown(12) == ["网格内设备数", "其中离线或故障"]
    assert shown(15) == ["密集设备数", "在线", "离线", "故障", "维护中"]
    assert all(e["shape"] in {"fill", "line", "circle", "ring", "count"} for e in sensors["legend"])


def test_the_fire_preset_shows_forest_sensors_and_water_without_a_choropleth(
    client_for, users, devices
):
    style = style_of(client_for(users.street), "?preset=fire")
    meta = style["metadata"]["gridline"]
    assert meta["preset"] == "fire"
    fire = next(p for p in meta["presets"] if p["name"] == "fire")
    assert fire["figure"] == "none"
    assert set(fire["layers"]) == {"grids", "sensors", "camera_sectors"}
    assert set(fire["filters"]["sensors"]["role"]) == {
        "camera",
        "voice_pole",
        "water_tank",
        "detector",
    }
    visible = {
        layer["source-layer"]
        for layer in style["layers"]
        if layer.get("source") == "gridline"
        and layer.get("layout", {}).get("visibility", "visible") == "visible"
    }
    assert "sensors" in visible and "camera_coverage" not in visible


def test_a_role_filter_narrows_the_devices(client_for, users, devices):
    admin = client_for(users.admin)
    at = devices["camera"].location
    assert codes(tile(admin, "sensors", at, 16, "?role=water_tank&role=camera")) == {
        "CAM-1",
        "WT-1",
    }
    response = tile(admin, "sensors", at, 16, "?role=hydrant")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "role"
