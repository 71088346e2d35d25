"""Buildings and units leave Gridline as files (scoped, units masked by role, audited) and as
OGC API – Features collections (scoped, no personal fields, the grid a place was in then)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import pyogrio
import pytest
from django.core.management import call_command
from shapely.geometry import box

from grids.models import AuditLog
from grids.services import basedata
from grids.services.boundaries import BoundaryChange, change_boundaries
from grids.services.exports import export_layer
from ogc import registry
from tests.conftest import centre_of
from tests.test_exports import read_export
from tests.test_ogc_collections import BETWEEN, NEW_EDGE, REDRAWN_ON, features, on


@pytest.fixture
def places(tree):
    """A building and a unit in the grid worker's grid, and one of each in another street."""
    made = {}
    for key, grid in (("mine", tree.grids[(1, 1, 1)]), ("far", tree.grids[(2, 2, 2)])):
        building, _ = basedata.create_building(
            code=f"B-{key}", location=centre_of(grid), floors=6, use="mixed"
        )
        unit, _ = basedata.create_unit(
            name=f"单位-{key}",
            type="shop",
            location=centre_of(grid),
            legal_person="王小明",
            contact_phone="13912345678",
            employees=4,
            building=building,
        )
        made[key] = (building, unit)
    return made


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_buildings_export_is_scoped(users, places, tmp_path, fmt):
    frame, _ = read_export(export_layer(users.worker, "buildings", fmt), tmp_path)
    assert list(frame["code"]) == ["B-mine"]
    assert list(frame["use"]) == ["mixed"]
    assert frame.geometry.iloc[0].geom_type == "Point"


def test_units_export_masks_personal_fields_by_role(users, places, tmp_path):
    (tmp_path / "district").mkdir()
    masked, _ = read_export(export_layer(users.district, "units", "gpkg"), tmp_path / "district")
    assert set(masked["name"]) == {"单位-mine", "单位-far"}
    assert set(masked["legal_person"]) == {"王**"}
    assert set(masked["phone"]) == {"139****5678"}
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_PERSONAL).exists()
    (tmp_path / "worker").mkdir()
    plain, _ = read_export(export_layer(users.worker, "units", "geojson"), tmp_path / "worker")
    assert list(plain["legal_person"]) == ["王小明"]
    read = AuditLog.objects.get(action=AuditLog.Action.READ_PERSONAL)
    assert (read.model, read.channel, read.object_ids) == ("unit", "export", [places["mine"][1].pk])
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, model="units").count() == 2


def test_a_csv_export_is_read_by_a_spreadsheet(users, places):
    """CSV: UTF-8 with a byte order mark (Excel reads the Chinese), points as X and Y."""
    export = export_layer(users.district, "units", "csv")
    assert export.filename.endswith(".csv") and export.content_type == "text/csv"
    assert export.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {row["name"] for row in rows} == {"单位-mine", "单位-far"}
    assert {row["legal_person"] for row in rows} == {"王**"}
    mine = next(row for row in rows if row["name"] == "单位-mine")
    point = places["mine"][1].location
    assert (float(mine["X"]), float(mine["Y"])) == pytest.approx((point.x, point.y))
    grids_csv = export_layer(users.worker, "grids", "csv").content.decode("utf-8-sig")
    assert grids_csv.splitlines()[1].startswith('"MULTIPOLYGON')


def test_the_export_command_writes_units(users, places, tmp_path):
    target = tmp_path / "units.gpkg"
    call_command("export_layer", "units", "--user", "street", "--output", str(target))
    frame = pyogrio.read_dataframe(target)
    assert list(frame["name"]) == ["单位-mine"]


def test_ogc_collections_of_buildings_and_units(users, places, api):
    ids = {c.id for c in registry.collections_for(users.worker)}
    assert {"buildings", "units"} <= ids
    mine_building, mine_unit = places["mine"]
    assert set(features("buildings", users.worker)) == {mine_building.pk}
    assert len(features("buildings", users.department)) == 2
    unit = features("units", users.admin)[mine_unit.pk]
    assert unit["type"] == "shop"
    assert "legal_person" not in unit and "contact_phone" not in unit
    response = api(users.worker).get("/ogc/collections/units/items?f=json")
    assert response.status_code == 200
    body = response.content.decode()
    assert "王小明" not in body and "13912345678" not in body
    assert [f["id"] for f in response.json()["features"]] == [mine_unit.pk]


def test_ogc_buildings_have_the_grid_they_were_in_then(tree, users):
    """A boundary change re-keys a building and keeps its past grid in its history; the
    collection with a past datetime gives the grid then (the households' rule)."""
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    building, _ = basedata.create_building(
        code="B-edge", location=BETWEEN, registered_on=dt.date(2024, 1, 1)
    )
    assert building.grid == east
    change_boundaries(
        [
            BoundaryChange(west, box(105.90, 29.30, NEW_EDGE, 29.35)),
            BoundaryChange(east, box(NEW_EDGE, 29.30, 105.95, 29.35)),
        ],
        valid_from=REDRAWN_ON,
        reason="边界调整",
    )
    building.refresh_from_db()
    assert building.grid == west
    assert features("buildings", users.admin)[building.pk]["grid"] == west.code
    then = features("buildings", users.admin, on(dt.date(2024, 6, 1)))
    assert then[building.pk]["grid"] == east.code
