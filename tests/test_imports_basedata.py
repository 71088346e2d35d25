"""Importing the 一标三实 base data: buildings (footprints, points, tables), units (types by
Chinese name, credit codes, building links), standard addresses, residents' new attributes
and households' building links. Every refusal names row, field and value and writes
nothing; a dry run writes nothing; a re-import leaves what is there."""

from __future__ import annotations

import csv

import geopandas as gpd
import pyogrio
import pytest
import shapely
from django.utils import translation

from grids.models import Building, Unit
from grids.services.imports import (
    import_buildings,
    import_units,
)
from tests.conftest import centre_of


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path, header, rows, encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def square(point, half=0.0002):
    return shapely.box(point.x - half, point.y - half, point.x + half, point.y + half)


def errors(report):
    return {(p.row, p.field, p.code) for p in report.errors}


# --- buildings ---------------------------------------------------------------------------


def footprints_gpkg(tree, path, crs="EPSG:4326"):
    a, b = centre_of(tree.grids[(1, 1, 1)]), centre_of(tree.grids[(2, 2, 2)])
    frame = gpd.GeoDataFrame(
        {
            "房屋编码": ["B001", "B002"],
            "房屋名称": ["1栋", "2栋"],
            "层数": [6, 18],
            "用途": ["住宅", "商住"],
            "建成年份": [1998, 2015],
        },
        geometry=[square(a), square(b)],
        crs="EPSG:4326",
    ).to_crs(crs)
    pyogrio.write_dataframe(frame, path, layer="buildings")
    return path


def test_building_footprints_are_keyed_by_their_point_on_surface(tree, tmp_path):
    path = footprints_gpkg(tree, tmp_path / "b.gpkg", crs="EPSG:4490")
    dry = import_buildings(path)
    assert not dry.errors and dry.written == 2 and not dry.committed
    assert not Building.objects.exists()  # a dry run writes nothing
    report = import_buildings(path, commit=True)
    assert report.committed and report.written == 2, report.problems
    one = Building.objects.get(code="B001")
    assert (one.name, one.floors, one.use, one.built_year) == ("1栋", 6, "residential", 1998)
    assert one.grid == tree.grids[(1, 1, 1)]
    assert one.footprint is not None and one.footprint.contains(one.location)
    assert Building.objects.get(code="B002").use == "mixed"
    assert Building.objects.get(code="B002").grid == tree.grids[(2, 2, 2)]
    # The same file again: both are there already, left as they are.
    again = import_buildings(path, commit=True)
    assert again.written == 0 and again.skipped_existing == 2
    assert Building.objects.count() == 2


def test_building_table_with_bad_values_is_refused_by_row_field_and_value(tree, tmp_path):
    point = centre_of(tree.grids[(1, 1, 1)])
    rows = [
        ["B1", "甲", point.x, point.y, "6", "住宅", "1990"],
        ["B2", "乙", point.x, point.y, "六", "住宅", "1990"],
        ["B3", "丙", point.x, point.y, "3", "宫殿", "1990"],
        ["B1", "丁", point.x, point.y, "3", "住宅", "2999"],
        ["B5", "戊", "", point.y, "3", "住宅", "1990"],
    ]
    path = write_csv(
        tmp_path / "b.csv", ["房屋编码", "名称", "经度", "纬度", "层数", "用途", "建成年份"], rows
    )
    report = import_buildings(path, commit=True)
    found = errors(report)
    assert (3, "floors", "invalid") in found
    assert (4, "use", "invalid_choice") in found
    assert (5, "built_year", "out_of_range") in found
    assert any(row == 6 and field == "location" for row, field, _code in found)
    bad = {p.row: p.value for p in report.errors}
    assert bad[3] == "六" and bad[4] == "宫殿"
    assert not report.committed and not Building.objects.exists()  # all or nothing


def test_a_repeated_building_code_is_an_error(tree, tmp_path):
    point = centre_of(tree.grids[(1, 1, 1)])
    rows = [["B1", point.x, point.y], ["B1", point.x, point.y]]
    path = write_csv(tmp_path / "b.csv", ["房屋编码", "经度", "纬度"], rows)
    report = import_buildings(path, commit=True)
    assert (3, "code", "duplicate_key") in errors(report)
    assert not Building.objects.exists()


# --- units -------------------------------------------------------------------------------

CREDIT = "91500118MA5U7X5L4N"


def test_units_by_chinese_type_name_linked_to_their_building(tree, tmp_path):
    footprints_gpkg(tree, tmp_path / "b.gpkg")
    import_buildings(tmp_path / "b.gpkg", commit=True)
    point = centre_of(tree.grids[(1, 1, 1)])
    header = ["单位名称", "单位类型", "统一社会信用代码", "法定代表人", "联系电话", "从业人数"]
    header += ["房屋编码", "经度", "纬度", "单位编号"]
    rows = [
        ["永川火锅店", "餐饮", "", "张三", "13812345678", "12", "B001", point.x, point.y, "U1"],
        ["红旗小学", "primary", "", "", "", "80", "", point.x, point.y, "U2"],
    ]
    path = write_csv(tmp_path / "u.csv", header, rows)
    report = import_units(path, commit=True)
    assert report.committed and report.written == 2, report.problems
    shop = Unit.objects.get(client_key="U1")
    assert shop.type.code == "restaurant" and shop.employees == 12
    assert shop.building == Building.objects.get(code="B001")
    assert shop.grid == tree.grids[(1, 1, 1)]
    assert Unit.objects.get(client_key="U2").type.code == "primary"
    again = import_units(path, commit=True)
    assert again.written == 0 and again.skipped_existing == 2


def test_unit_problems_name_the_row_and_field_and_nothing_is_written(tree, tmp_path):
    point = centre_of(tree.grids[(1, 1, 1)])
    header = ["单位名称", "单位类型", "统一社会信用代码", "房屋编码", "经度", "纬度"]
    rows = [
        ["甲", "火箭厂", "", "", point.x, point.y],
        ["乙", "企业", "91500118MA5U7X5L4X", "", point.x, point.y],
        ["丙", "企业", "", "NOPE", point.x, point.y],
        ["丁", "企业", CREDIT[:-1] + "0", "", 200, 100],
    ]
    report = import_units(write_csv(tmp_path / "u.csv", header, rows), commit=True)
    found = errors(report)
    assert (2, "type", "unknown_unit_type") in found
    assert (3, "credit_code", "invalid_credit_code") in found
    assert (4, "building_code", "unknown_building") in found
    assert any(row == 5 for row, _field, _code in found)
    assert not Unit.objects.exists()


def test_a_unit_layer_of_polygons_is_refused(tree, tmp_path):
    path = footprints_gpkg(tree, tmp_path / "b.gpkg")
    report = import_units(path, fields={"name": "房屋名称", "type": "用途"}, commit=True)
    assert {p.code for p in report.errors} == {"not_a_point"}
    assert not Unit.objects.exists()
