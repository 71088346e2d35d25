"""Importing devices from files: round trips through GeoPackage and CSV, every bad row named,
nothing written on failure, re-imports correct devices in place."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import Point as SPoint

from sensors.models import Sensor
from sensors.services import registry
from sensors.services.imports import ImportAborted, coerce, import_sensors
from tests.conftest import centre_of


def rows_in(tree, n=3):
    """Devices near the centre of grid (1,1,1) and (2,2,2)."""
    a, b = centre_of(tree.grids[(1, 1, 1)]), centre_of(tree.grids[(2, 2, 2)])
    return [
        {
            "code": "CAM-1",
            "type": "camera",
            "name": "东门",
            "prop_bearing": "45",
            "prop_fov": 90.0,
            "prop_range": "150",
            "prop_ptz": "是",
            "geometry": SPoint(a.x, a.y),
        },
        {
            "code": "POLE-1",
            "type": "voice_pole",
            "name": "",
            "prop_broadcast_radius": 250,
            "prop_speakers": "2",
            "geometry": SPoint(a.x + 0.001, a.y),
        },
        {
            "code": "TANK-1",
            "type": "water_tank",
            "name": "水池",
            "prop_capacity_m3": "300",
            "department": "civil-affairs",
            "installed_on": "2023-04-01",
            "status": "online",
            "geometry": SPoint(b.x, b.y),
        },
    ][:n]


def write_gpkg(path, rows, crs="EPSG:4326"):
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    frame.to_file(path, driver="GPKG", layer="sensors")
    return path


def test_geopackage_round_trip(tmp_path, tree, users):
    path = write_gpkg(tmp_path / "sensors.gpkg", rows_in(tree))
    report = import_sensors(path, user=users.district)
    assert report.committed and report.written == 3 and not report.errors
    cam = Sensor.objects.get(code="CAM-1")
    assert cam.properties == {"bearing": 45, "fov": 90, "range": 150, "ptz": True}
    assert cam.grid == tree.grids[(1, 1, 1)] and cam.role == "camera"
    assert cam.district == tree.district
    expected = registry.coverage_for("camera", cam.location, cam.properties)
    assert cam.coverage.equals_exact(expected, 1e-9)
    pole = Sensor.objects.get(code="POLE-1")
    assert pole.properties == {"broadcast_radius": 250, "speakers": 2}
    assert pole.coverage.num_points == registry.CIRCLE_VERTICES + 1
    tank = Sensor.objects.get(code="TANK-1")
    assert tank.coverage is None and tank.status == "online"
    assert tank.department.code == "civil-affairs" and str(tank.installed_on) == "2023-04-01"
    assert tank.grid == tree.grids[(2, 2, 2)]


def test_reimport_updates_in_place(tmp_path, tree, users):
    import_sensors(write_gpkg(tmp_path / "a.gpkg", rows_in(tree)), user=users.district)
    first = Sensor.objects.get(code="CAM-1")
    rows = rows_in(tree, 1)
    target = centre_of(tree.grids[(1, 2, 1)])
    rows[0].update(prop_bearing="180", geometry=SPoint(target.x, target.y), name="")
    report = import_sensors(write_gpkg(tmp_path / "b.gpkg", rows), user=users.district)
    assert (report.written, report.updated) == (0, 1)
    cam = Sensor.objects.get(code="CAM-1")
    assert cam.pk == first.pk and cam.grid == tree.grids[(1, 2, 1)]
    assert cam.properties["bearing"] == 180 and cam.name == "东门"  # empty name kept
    assert not cam.coverage.equals(first.coverage)


def test_csv_with_properties_json_and_dry_run(tmp_path, tree, users):
    a = centre_of(tree.grids[(1, 1, 2)])
    path = tmp_path / "sensors.csv"
    cell = json.dumps({"capacity_m3": 50}).replace('"', '""')  # CSV quoting
    path.write_text(
        f'code,type,lon,lat,properties\nT1,water_tank,{a.x},{a.y},"{cell}"\n', encoding="utf-8"
    )
    report = import_sensors(path, user=users.district, dry_run=True)
    assert report.written == 1 and not report.committed
    assert not Sensor.objects.exists()
    report = import_sensors(path, user=users.district)
    assert Sensor.objects.get(code="T1").properties == {"capacity_m3": 50}


def bad_rows(tree):
    a = centre_of(tree.grids[(1, 1, 1)])
    good = {"type": "camera", "prop_bearing": 10, "prop_fov": 60, "prop_range": 100}
    return [
        {"code": "OK-1", **good, "geometry": SPoint(a.x, a.y)},
        {"code": "OK-1", **good, "geometry": SPoint(a.x, a.y)},  # duplicate in the file
        {"code": "B-3", **good, "type": "spaceship", "geometry": SPoint(a.x, a.y)},
        {"code": "B-4", **good, "prop_bearing": "north", "geometry": SPoint(a.x, a.y)},
        {"code": "B-5", **good, "prop_bearing": 400, "geometry": SPoint(a.x, a.y)},
        {"code": "B-6", **good, "geometry": SPoint(116.4, 39.9)},  # Beijing: outside
        {"code": "B-7", **good, "geometry": SPoint(500000, 3200000)},  # metres, not degrees
        {"code": "B-8", **good, "status": "burning", "geometry": SPoint(a.x, a.y)},
        {"code": "B-9", **good, "installed_on": "2999-01-01", "geometry": SPoint(a.x, a.y)},
        {"code": "B-10", **good, "department": "nobody", "geometry": SPoint(a.x, a.y)},
        {"code": "", **good, "geometry": SPoint(a.x, a.y)},
    ]


def test_every_bad_row_is_named_and_nothing_is_written(tmp_path, tree, users):
    path = write_gpkg(tmp_path / "bad.gpkg", bad_rows(tree))
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(path, user=users.district)
    found = {(p.row, p.field, p.code) for p in aborted.value.report.errors}
    assert found == {
        (2, "code", "duplicate_code"),
        (3, "type", "unknown_type"),
        (4, "properties.bearing", "bad_value"),
        (5, "properties.bearing", "schema_maximum"),
        (6, "lon/lat", "far_outside_district"),
        (7, "geometry", "wrong_crs"),
        (8, "status", "invalid_status"),
        (9, "installed_on", "future_date"),
        (10, "department", "unknown_department"),
        (11, "code", "missing_value"),
    }
    assert not Sensor.objects.exists()


def test_codes_outside_the_jurisdiction_or_of_another_type(tmp_path, tree, users):
    a = centre_of(tree.grids[(2, 2, 2)])
    registry.create_sensor(
        registry.SensorSpec(code="X", type="water_tank", location=a, properties={"capacity_m3": 1})
    )
    rows = [
        {
            "code": "X",
            "type": "voice_pole",
            "prop_broadcast_radius": 10,
            "geometry": SPoint(a.x, a.y),
        }
    ]
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(write_gpkg(tmp_path / "x.gpkg", rows), user=users.district)
    assert [(p.field, p.code) for p in aborted.value.report.errors] == [("type", "type_change")]
    rows[0]["type"] = "water_tank"
    rows[0]["prop_capacity_m3"] = 2
    del rows[0]["prop_broadcast_radius"]
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(write_gpkg(tmp_path / "y.gpkg", rows), user=users.street)
    assert [(p.field, p.code) for p in aborted.value.report.errors] == [("code", "duplicate_code")]


def test_missing_type_column_and_unreadable_file(tmp_path, tree, users):
    path = tmp_path / "t.csv"
    path.write_text("code,lon,lat\nA,105.91,29.31\n", encoding="utf-8")
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(path, user=users.district)
    assert aborted.value.report.errors[0].field == "type"
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a geopackage")
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(junk, user=users.district)
    assert aborted.value.report.errors[0].code == "unreadable"


def test_projected_file_is_converted(tmp_path, tree, users):
    rows = rows_in(tree, 1)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_crs("EPSG:32648")
    path = tmp_path / "utm.gpkg"
    frame.to_file(path, driver="GPKG")
    import_sensors(path, user=users.district)
    cam = Sensor.objects.get(code="CAM-1")
    assert cam.location.distance(centre_of(tree.grids[(1, 1, 1)])) < 1e-6


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("12", "number", 12.0),
        ("1,200.5", "number", 1200.5),
        ("3", "integer", 3),
        (3.0, "integer", 3),
        ("否", "boolean", False),
        ("1.0", "boolean", True),
        (" cam ", "string", "cam"),
    ],
)
def test_cells_are_coerced_to_the_schema_type(value, kind, expected):
    assert coerce(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [("3.5", "integer"), ("x", "number"), ("maybe", "boolean"), (float("inf"), "number")],
)
def test_cells_that_cannot_be_coerced(value, kind):
    with pytest.raises(ValueError):
        coerce(value, kind)


def test_api_upload_and_command(tmp_path, tree, users, api):
    path = write_gpkg(tmp_path / "s.gpkg", rows_in(tree))
    client = api(users.district)
    with path.open("rb") as handle:
        response = client.post(
            "/api/sensors/imports/", {"file": handle, "dry_run": "true"}, format="multipart"
        )
    assert response.status_code == 200, response.json()
    assert response.json()["written"] == 3 and response.json()["committed"] is False
    assert not Sensor.objects.exists()
    bad = write_gpkg(tmp_path / "bad.gpkg", bad_rows(tree))
    with bad.open("rb") as handle:
        response = client.post("/api/sensors/imports/", {"file": handle}, format="multipart")
    assert response.status_code == 400
    assert {"row": 3, "field": "type", "code": "unknown_type"}.items() <= next(
        e for e in response.json()["errors"] if e.get("row") == 3
    ).items()
    with path.open("rb") as handle:
        response = api(users.street).post(
            "/api/sensors/imports/", {"file": handle}, format="multipart"
        )
    assert response.status_code == 403
    with pytest.raises(CommandError):
        call_command("import_sensors", str(bad))
    call_command("import_sensors", str(path), "--district", "500118")
    assert Sensor.objects.count() == 3
