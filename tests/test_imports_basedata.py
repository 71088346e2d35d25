"""Importing the 一标三实 base data: buildings (footprints, points, tables), units (types by
Chinese name, credit codes, building links), standard addresses, residents' new attributes
and households' building links. Every refusal names row, field and value and writes
nothing; a dry run writes nothing; a re-import leaves what is there."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO

import geopandas as gpd
import pyogrio
import pytest
import shapely
from django.core.management import call_command
from django.utils import translation

from grids.models import Address, Building, Household, Resident, Unit
from grids.services.imports import (
    import_addresses,
    import_buildings,
    import_households,
    import_residents,
    import_units,
)
from grids.services.imports.people import check_digit
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


# --- residents' new attributes and households' buildings -----------------------------------


def person(birth: str, male: bool, seq: int = 12) -> str:
    body = f"500118{birth}{seq * 2 + (1 if male else 0):03d}"
    return body + check_digit(body)


@pytest.fixture
def home(tree, tmp_path):
    footprints_gpkg(tree, tmp_path / "b.gpkg")
    import_buildings(tmp_path / "b.gpkg", commit=True)
    point = centre_of(tree.grids[(1, 1, 1)])
    path = write_csv(
        tmp_path / "h.csv",
        ["户编号", "地址", "经度", "纬度", "房屋编码"],
        [["H1", "中山路12号1单元101", point.x, point.y, "B001"]],
    )
    report = import_households(path, commit=True)
    assert report.committed, report.problems
    return Household.objects.get(client_key="H1")


def test_households_are_linked_to_their_building_by_its_code(home, tree, tmp_path):
    assert home.building == Building.objects.get(code="B001")
    point = centre_of(tree.grids[(1, 1, 1)])
    path = write_csv(
        tmp_path / "h2.csv",
        ["户编号", "地址", "经度", "纬度", "房屋编码"],
        [["H2", "中山路12号1单元102", point.x, point.y, "B999"]],
    )
    report = import_households(path, commit=True)
    assert (2, "building_code", "unknown_building") in errors(report)
    assert not Household.objects.filter(client_key="H2").exists()


RESIDENT_HEADER = ["户编号", "姓名", "公民身份号码", "与户主关系", "户籍类型", "来本地日期"]
RESIDENT_HEADER += ["户籍地", "人员类别"]


def test_residents_registration_relation_and_tags_with_levels(home, tmp_path):
    rows = [
        ["H1", "张三", person("19450312", True), "户主", "户籍", "", "", "残疾(二级)、独居老人"],
        [
            "H1",
            "李四",
            person("19480705", False),
            "妻子",
            "流动人口",
            "2020-05-01",
            "四川省广安市",
            "特困、党员",
        ],
        ["H1", "王五", person("20150101", True, 40), "孙子", "overseas", "", "", "留守儿童"],
    ]
    path = write_csv(tmp_path / "p.csv", RESIDENT_HEADER, rows)
    report = import_residents(path, commit=True)
    assert report.committed and report.written == 3, report.problems
    zhang, li, wang = (Resident.objects.get(name=n) for n in ("张三", "李四", "王五"))
    assert (zhang.relation, zhang.registration) == ("head", "registered")
    assert zhang.tags == ["disabled", "elderly", "living_alone"]
    assert zhang.tag_levels == {"disabled": "二级"}
    assert (li.relation, li.registration, li.origin) == ("spouse", "floating", "四川省广安市")
    assert li.residence_since == dt.date(2020, 5, 1)
    assert li.tags == ["extreme_poverty", "party_member"]
    assert (wang.relation, wang.registration) == ("grandchild", "overseas")
    assert wang.tags == ["child", "left_behind_child"]


def test_bad_attributes_and_levels_are_named_and_nothing_is_written(home, tmp_path):
    rows = [
        ["H1", "张三", person("19450312", True), "邻居", "户籍", "", "", "残疾:九级"],
        ["H1", "李四", person("19480705", False), "配偶", "外星", "2999-01-01", "", "老年人"],
    ]
    report = import_residents(write_csv(tmp_path / "p.csv", RESIDENT_HEADER, rows), commit=True)
    found = errors(report)
    assert (2, "relation", "bad_relation") in found
    assert (2, "tag_levels.disabled", "unknown_level") in found
    assert (3, "registration", "bad_registration") in found
    assert (3, "residence_since", "bad_date") in found
    assert {p.value for p in report.errors if p.field == "registration"} == {"外星"}
    assert not report.committed and not Resident.objects.exists()


# --- standard addresses ------------------------------------------------------------------


def test_standard_addresses_parsed_normalised_and_keyed(tree, tmp_path):
    footprints_gpkg(tree, tmp_path / "b.gpkg")
    import_buildings(tmp_path / "b.gpkg", commit=True)
    point = centre_of(tree.grids[(1, 1, 1)])
    rows = [
        ["中山路12号1栋2单元301", point.x, point.y, "B001"],
        ["中山路１２号 1栋2单元301", point.x, point.y, ""],  # the same door, written apart
        ["中山路14号", "", "", ""],
    ]
    path = write_csv(tmp_path / "a.csv", ["标准地址", "经度", "纬度", "房屋编码"], rows)
    dry = import_addresses(path)
    assert not dry.errors and dry.written == 2 and not Address.objects.exists()
    report = import_addresses(path, commit=True)
    assert report.committed and report.written == 2, report.problems
    assert {p.code for p in report.warnings} == {"same_address"}
    located = Address.objects.get(location__isnull=False)
    assert located.grid == tree.grids[(1, 1, 1)]
    assert located.building == Building.objects.get(code="B001")
    assert located.community == tree.communities[(1, 1)]
    assert (located.road, located.unit_no) == ("中山路", "2单元") or located.road
    again = import_addresses(path, commit=True)
    assert again.written == 0 and again.skipped_existing == 2


def test_an_address_that_cannot_be_read_is_refused_with_its_row(tree, tmp_path):
    rows = [["中山路12号"], ["重庆市永川区"], ["中山路14号"]]
    report = import_addresses(write_csv(tmp_path / "a.csv", ["地址"], rows), commit=True)
    assert [(p.row, p.field) for p in report.errors] == [(3, "address")]
    assert not report.committed and not Address.objects.exists()


# --- commands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "header", "row"),
    [
        ("import_buildings", ["房屋编码", "经度", "纬度"], ["B9"]),
        ("import_units", ["单位名称", "单位类型", "经度", "纬度"], ["甲", "企业"]),
        ("import_addresses", ["地址", "经度", "纬度"], ["中山路20号"]),
    ],
)
def test_commands_dry_run_then_commit(tree, tmp_path, command, header, row):
    point = centre_of(tree.grids[(1, 1, 1)])
    path = write_csv(tmp_path / "f.csv", header, [[*row, point.x, point.y]])
    out = StringIO()
    call_command(command, str(path), "--language", "en", stdout=out, stderr=StringIO())
    assert "1 read, 0 errors" in out.getvalue()
    model = {"import_buildings": Building, "import_units": Unit, "import_addresses": Address}
    assert not model[command].objects.exists()
    call_command(command, str(path), "--commit", "--language", "en", stdout=out)
    assert model[command].objects.count() == 1


def test_past_dated_rows_announce_the_change(tree, tmp_path, django_capture_on_commit_callbacks):
    """Snapshots of past days' figures are dropped from the earliest date an import wrote."""
    from grids.changes import data_changed

    received = []

    def receiver(sender, subject, since, **kwargs):
        received.append((subject, since))

    point = centre_of(tree.grids[(1, 1, 1)])
    households = write_csv(
        tmp_path / "h.csv",
        ["户编号", "地址", "经度", "纬度", "登记日期"],
        [["H1", "中山路1号", point.x, point.y, "2024-01-05"]],
    )
    buildings = write_csv(
        tmp_path / "b.csv",
        ["房屋编码", "经度", "纬度", "登记日期"],
        [["B1", point.x, point.y, "2023-03-01"]],
    )
    data_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert import_households(households, commit=True).committed
            assert import_buildings(buildings, commit=True).committed
    finally:
        data_changed.disconnect(receiver)
    assert ("households", dt.date(2024, 1, 5)) in received
    assert ("buildings", dt.date(2023, 3, 1)) in received
