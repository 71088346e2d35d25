"""The sensor registry API: types, devices (GeoJSON list with filters, scoping, who may
write), gateways and tokens."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from sensors.models import Broadcast, Delivery, Gateway, Sensor, SensorType
from sensors.services import registry
from sensors.services.registry import SensorSpec, holder_of
from tests.conftest import centre_of

CAMERA = {"bearing": 90, "fov": 60, "range": 200}
POLE = {"broadcast_radius": 300}
TANK = {"capacity_m3": 200, "level_pct": 80}


@pytest.fixture
def place(tree, users):
    """A device of each role in grid (1,1,1), a camera in grid (2,2,2)."""

    def add(code, type_code, key, properties, **extra):
        point = centre_of(tree.grids[key])
        return registry.create_sensor(
            SensorSpec(code=code, type=type_code, location=point, properties=properties, **extra)
        )

    return {
        "cam": add("CAM-1", "camera", (1, 1, 1), CAMERA, name="东门"),
        "pole": add("POLE-1", "voice_pole", (1, 1, 1), POLE),
        "tank": add("TANK-1", "water_tank", (1, 1, 1), TANK, department="civil-affairs"),
        "far": add("CAM-2", "camera", (2, 2, 2), CAMERA),
    }


def feature_codes(body) -> list[str]:
    return [f["properties"]["code"] for f in body["features"]]


def errors(response) -> dict[str, str]:
    return {e.get("field"): e["code"] for e in response.json()["errors"]}


# --- list, filters, scoping ----------------------------------------------------------------


def test_list_is_a_feature_collection_scoped_to_the_jurisdiction(api, users, place):
    body = api(users.district).get("/api/sensors/sensors/").json()
    assert body["type"] == "FeatureCollection"
    assert feature_codes(body) == ["CAM-1", "CAM-2", "POLE-1", "TANK-1"]
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["type"] == "camera"
    assert feature["properties"]["grid_code"] == "500118001001001"
    assert feature["properties"]["properties"] == CAMERA

    assert feature_codes(api(users.worker).get("/api/sensors/sensors/").json()) == [
        "CAM-1",
        "POLE-1",
        "TANK-1",
    ]
    assert feature_codes(api(users.other_worker).get("/api/sensors/sensors/").json()) == ["CAM-2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=camera", ["CAM-1", "CAM-2"]),
        ("type=camera&type=water_tank", ["CAM-1", "CAM-2", "TANK-1"]),
        ("role=voice_pole", ["POLE-1"]),
        ("status=offline&status=online", ["CAM-1", "CAM-2", "POLE-1", "TANK-1"]),
        ("status=online", []),
        ("grid=500118002002002", ["CAM-2"]),
        ("q=东门", ["CAM-1"]),
        ("q=pole", ["POLE-1"]),
        ("bbox=105.99,29.39,106.0,29.4", []),
        ("bbox=105.9,29.3,105.95,29.35", ["CAM-1", "POLE-1", "TANK-1"]),
    ],
)
def test_list_filters(api, users, place, query, expected):
    response = api(users.admin).get(f"/api/sensors/sensors/?{query}")
    assert response.status_code == 200, response.json()
    assert feature_codes(response.json()) == expected


def test_region_filter_takes_the_devices_under_it(api, users, place, tree):
    street2 = tree.streets[2].pk
    body = api(users.admin).get(f"/api/sensors/sensors/?region={street2}").json()
    assert feature_codes(body) == ["CAM-2"]
    body = api(users.admin).get(f"/api/sensors/sensors/?region={tree.district.pk}").json()
    assert len(body["features"]) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=broken", "status"), ("bbox=1,2,3", "bbox"), ("region=999999", "region")],
)
def test_bad_filters_name_the_parameter(api, users, place, query, field):
    response = api(users.admin).get(f"/api/sensors/sensors/?{query}")
    assert response.status_code == 400
    assert field in errors(response)


def test_list_query_count_does_not_grow_with_devices(
    api, users, tree, django_assert_max_num_queries
):
    point = centre_of(tree.grids[(1, 1, 1)])
    for i in range(30):
        registry.create_sensor(
            SensorSpec(code=f"C{i:02d}", type="camera", location=point, properties=CAMERA)
        )
    client = api(users.district)
    with django_assert_max_num_queries(4):
        body = client.get("/api/sensors/sensors/?type=camera&status=offline").json()
    assert len(body["features"]) == 30


def test_detail_has_coverage_and_is_404_outside(api, users, place):
    cam = place["cam"]
    body = api(users.worker).get(f"/api/sensors/sensors/{cam.pk}/").json()
    assert body["properties"]["coverage"]["type"] == "Polygon"
    assert api(users.other_worker).get(f"/api/sensors/sensors/{cam.pk}/").status_code == 404


# --- writing devices -----------------------------------------------------------------------


def test_create_keys_grid_and_coverage(api, users, tree):
    point = centre_of(tree.grids[(1, 1, 2)])
    response = api(users.community).post(
        "/api/sensors/sensors/",
        {
            "code": "CAM-NEW",
            "type": "camera",
            "lon": point.x,
            "lat": point.y,
            "properties": CAMERA,
            "installed_on": "2024-05-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    props = response.json()["properties"]
    assert props["grid_code"] == tree.grids[(1, 1, 2)].code
    assert props["role"] == "camera"
    assert props["coverage"]["type"] == "Polygon"
    assert Sensor.objects.get(code="CAM-NEW").status == "offline"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"properties": {"bearing": 400, "fov": 60, "range": 100}}, "properties.bearing"),
        ({"properties": {"fov": 60, "range": 100}}, "properties.bearing"),
        ({"properties": {**CAMERA, "colour": "red"}}, "properties"),
        ({"type": "no_such_type"}, "type"),
        ({"status": "exploded"}, "status"),
        ({"lon": 500.0}, "lon"),
        ({"location": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}, "location"),
        ({"department": "nobody"}, "department"),
        ({"code": ""}, "code"),
        ({"crs": "EPSG:999999"}, "crs"),
        ({"lon": 100.0, "lat": 40.0}, "location"),  # in no district
    ],
)
def test_create_bad_input_names_the_field_and_writes_nothing(api, users, tree, change, field):
    point = centre_of(tree.grids[(1, 1, 1)])
    body = {"code": "BAD", "type": "camera", "lon": point.x, "lat": point.y, "properties": CAMERA}
    body.update(change)
    if "location" in change:
        body.pop("lon"), body.pop("lat")
    response = api(users.district).post("/api/sensors/sensors/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in errors(response), response.json()
    assert not Sensor.objects.exists()


def test_duplicate_code_is_refused(api, users, place, tree):
    point = centre_of(tree.grids[(1, 1, 1)])
    response = api(users.district).post(
        "/api/sensors/sensors/",
        {"code": "CAM-1", "type": "camera", "lon": point.x, "lat": point.y, "properties": CAMERA},
        format="json",
    )
    assert response.status_code == 400
    assert errors(response) == {"code": "duplicate_code"}


def test_who_may_write(api, users, place, tree):
    point = centre_of(tree.grids[(2, 1, 1)])  # street 2: outside the street user's streets
    body = {"code": "X", "type": "water_tank", "lon": point.x, "lat": point.y, "properties": TANK}
    # Grid workers read only.
    assert api(users.worker).post("/api/sensors/sensors/", body, format="json").status_code == 403
    assert (
        api(users.worker)
        .patch(f"/api/sensors/sensors/{place['cam'].pk}/", {"name": "x"}, format="json")
        .status_code
        == 403
    )
    # A street centre only within its street.
    response = api(users.street).post("/api/sensors/sensors/", body, format="json")
    assert response.status_code == 400
    assert errors(response) == {"location": "outside_jurisdiction"}
    # A department registers its own devices and keeps only them.
    response = api(users.department).post("/api/sensors/sensors/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["department"] == "civil-affairs"
    tank, cam = place["tank"], place["cam"]
    dept = api(users.department)
    assert (
        dept.patch(f"/api/sensors/sensors/{tank.pk}/", {"name": "水池"}, format="json").status_code
        == 200
    )
    assert (
        dept.patch(f"/api/sensors/sensors/{cam.pk}/", {"name": "x"}, format="json").status_code
        == 403
    )


def test_patch_moves_and_rekeys_and_recomputes_coverage(api, users, place, tree):
    cam = place["cam"]
    old = cam.coverage
    target = centre_of(tree.grids[(1, 2, 1)])
    response = api(users.street).patch(
        f"/api/sensors/sensors/{cam.pk}/",
        {
            "location": {"type": "Point", "coordinates": [target.x, target.y]},
            "properties": {"bearing": 180, "fov": 90, "range": 100},
            "status": "maintenance",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    cam.refresh_from_db()
    assert cam.grid == tree.grids[(1, 2, 1)]
    assert cam.status == "maintenance"
    assert not cam.coverage.equals(old)


def test_patch_bad_properties_changes_nothing(api, users, place):
    cam = place["cam"]
    response = api(users.district).patch(
        f"/api/sensors/sensors/{cam.pk}/",
        {"properties": {"bearing": "east", "fov": 60, "range": 200}, "name": "new"},
        format="json",
    )
    assert response.status_code == 400
    assert "properties.bearing" in errors(response)
    cam.refresh_from_db()
    assert cam.properties == CAMERA and cam.name == "东门"


def test_delete_by_district_only_and_refused_with_history(api, users, place):
    pole, tank = place["pole"], place["tank"]
    assert api(users.street).delete(f"/api/sensors/sensors/{tank.pk}/").status_code == 403
    assert api(users.district).delete(f"/api/sensors/sensors/{tank.pk}/").status_code == 204
    assert not Sensor.objects.filter(pk=tank.pk).exists()
    broadcast = Broadcast.objects.create(message="撤离", adapter="log")
    Delivery.objects.create(broadcast=broadcast, pole=pole)
    response = api(users.district).delete(f"/api/sensors/sensors/{pole.pk}/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "sensor_in_use"


# --- types ---------------------------------------------------------------------------------

HYDRANT = {
    "code": "hydrant",
    "name": "消火栓",
    "role": "water_tank",
    "properties_schema": {
        "type": "object",
        "properties": {"capacity_m3": {"type": "number"}, "pressure_mpa": {"type": "number"}},
        "required": ["capacity_m3"],
    },
}


def test_district_adds_a_type_others_read(api, users, tree):
    response = api(users.district).post("/api/sensors/types/", HYDRANT, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["district"] == tree.district.pk
    codes = [t["code"] for t in api(users.worker).get("/api/sensors/types/").json()]
    assert {"camera", "voice_pole", "water_tank", "hydrant"} <= set(codes)
    assert api(users.worker).post("/api/sensors/types/", HYDRANT, format="json").status_code == 403
    # A device of the district's type, checked against its schema.
    point = centre_of(tree.grids[(1, 1, 1)])
    body = {"code": "H1", "type": "hydrant", "lon": point.x, "lat": point.y}
    response = api(users.district).post(
        "/api/sensors/sensors/", {**body, "properties": {"capacity_m3": "lots"}}, format="json"
    )
    assert errors(response) == {"properties.capacity_m3": "schema_type"}
    response = api(users.district).post(
        "/api/sensors/sensors/", {**body, "properties": {"capacity_m3": 5}}, format="json"
    )
    assert response.status_code == 201


def test_type_bad_schema_and_read_only_builtins(api, users):
    client = api(users.district)
    bad = {**HYDRANT, "properties_schema": {"type": "thing"}}
    response = client.post("/api/sensors/types/", bad, format="json")
    assert response.status_code == 400
    assert "properties_schema" in errors(response)
    assert not SensorType.objects.filter(code="hydrant").exists()
    response = client.patch("/api/sensors/types/camera/", {"name": "x"}, format="json")
    assert response.status_code == 403
    response = client.post("/api/sensors/types/", {**HYDRANT, "code": "camera"}, format="json")
    assert errors(response) == {"code": "duplicate_code"}


def test_type_with_devices_keeps_role_and_schema_must_fit_them(api, users, tree):
    client = api(users.district)
    client.post("/api/sensors/types/", HYDRANT, format="json")
    point = centre_of(tree.grids[(1, 1, 1)])
    registry.create_sensor(
        SensorSpec(code="H1", type="hydrant", location=point, properties={"capacity_m3": 5}),
        user=users.district,
    )
    response = client.patch("/api/sensors/types/hydrant/", {"role": "other"}, format="json")
    assert response.status_code == 409
    assert errors(response) == {"role": "type_in_use"}
    stricter = {**HYDRANT["properties_schema"], "required": ["capacity_m3", "pressure_mpa"]}
    response = client.patch(
        "/api/sensors/types/hydrant/", {"properties_schema": stricter}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["feature"] == "H1"
    response = client.patch("/api/sensors/types/hydrant/", {"name": "市政消火栓"}, format="json")
    assert response.status_code == 200
    assert SensorType.objects.get(code="hydrant").role == "water_tank"


# --- gateways and tokens -------------------------------------------------------------------


def test_gateway_token_is_shown_once_and_works(api, users, tree):
    client = api(users.district)
    response = client.post(
        "/api/sensors/gateways/", {"code": "hik", "name": "海康平台"}, format="json"
    )
    assert response.status_code == 201, response.json()
    gateway = Gateway.objects.get(code="hik")
    assert gateway.district == tree.district
    assert response.json()["has_token"] is False
    token = client.post(f"/api/sensors/gateways/{gateway.pk}/token/").json()["token"]
    assert holder_of(token) == gateway
    listed = client.get("/api/sensors/gateways/").json()
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert listed[0]["has_token"] is True
    # A new token replaces the old one.
    client.post(f"/api/sensors/gateways/{gateway.pk}/token/")
    assert holder_of(token) is None
    assert api(users.street).post(f"/api/sensors/gateways/{gateway.pk}/token/").status_code == 403


def test_gateway_bad_input(api, users):
    client = api(users.admin)
    response = client.post("/api/sensors/gateways/", {"code": "g", "name": "G"}, format="json")
    assert errors(response) == {"district": "invalid"}
    response = api(users.district).post(
        "/api/sensors/gateways/",
        {"code": "g", "name": "G", "department_code": "nobody"},
        format="json",
    )
    assert errors(response) == {"department_code": "invalid"}


def test_device_token(api, users, place):
    cam = place["cam"]
    response = api(users.district).post(f"/api/sensors/sensors/{cam.pk}/token/")
    assert response.status_code == 201
    assert holder_of(response.json()["token"]) == cam
    assert api(users.community).post(f"/api/sensors/sensors/{cam.pk}/token/").status_code == 403
    assert api(users.other_worker).post(f"/api/sensors/sensors/{cam.pk}/token/").status_code in (
        403,
        404,
    )


def test_administrator_creates_a_device_of_a_district_type(api, users, tree):
    api(users.district).post("/api/sensors/types/", HYDRANT, format="json")
    point = centre_of(tree.grids[(2, 1, 1)])
    response = api(users.admin).post(
        "/api/sensors/sensors/",
        {
            "code": "H9",
            "type": "hydrant",
            "location": {"type": "Point", "coordinates": [point.x, point.y]},
            "properties": {"capacity_m3": 1},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Sensor.objects.get(code="H9").location.equals_exact(Point(point.x, point.y), 1e-9)
