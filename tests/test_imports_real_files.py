"""The import commands with the files a GIS officer really has (issue 15, section 6): GBK
without .cpg, zipped, multi-layer, GCJ-02 labelled WGS84, no code column, member counts in
Chinese, hundreds of problems, re-imports."""

from __future__ import annotations

import csv
import warnings
import zipfile
from io import StringIO

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation
from shapely.geometry import box

from grids.models import Household, Level, Region, RegionBoundary
from grids.services import crs
from grids.services.imports import import_boundaries, import_households
from tests import test_imports
from tests.conftest import VALID_FROM
from tests.test_imports import (
    STREET_NAMES,
    frame,
    household_rows,
    layout,
    run,
    write,
    write_households,
)


@pytest.fixture(autouse=True)
def english():
    """These tests check the English wording of the messages (run with --language en); the
    Chinese the commands and the API speak by default is tested in test_import_words.py."""
    with translation.override("en"):
        yield


# The district alone, and with its streets and communities (the fixtures of test_imports).
district = test_imports.district
blank = test_imports.blank


def gcj(geom):
    """A geometry as a Gaode map would give it: WGS84 shifted to GCJ-02."""
    return shapely.transform(geom, lambda xy: np.column_stack(crs.wgs84_to_gcj02(*xy.T)))


def gbk_shapefile_without_cpg(rows, path):
    write(frame(rows), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


# ------------------------------------------------------------------------ members and fields


def test_member_count_is_imported_and_a_chinese_numeral_is_named(tree, tmp_path):
    table = household_rows(tree).rename(columns={"address": "门牌"})
    table["人数"] = ["3", "三", "2"]
    path = tmp_path / "hh.csv"
    table.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(CommandError, match="2 of 3 rows have no error"):
        run("import_households", path, "--field", "address=门牌", "--field", "member_count=人数")
    report = import_households(path, fields={"address": "门牌", "member_count": "人数"})
    [problem] = report.errors
    assert (problem.code, problem.row, problem.field, problem.value) == (
        "bad_number",
        3,
        "member_count",
        "三",
    )
    assert "'三'" in problem.message
    table["人数"] = ["3", "4", ""]
    table.to_csv(path, index=False, encoding="gbk")
    out, _ = run(
        "import_households",
        path,
        "--field",
        "address=门牌",
        "--field",
        "member_count=人数",
        "--commit",
    )
    assert "3 written" in out
    assert sorted(Household.objects.values_list("member_count", flat=True)) == [0, 3, 4]


def test_member_count_column_is_found_without_mapping_and_removed_on_is_read(tree, tmp_path):
    table = household_rows(tree)
    table["人数"] = ["1", "2", "5"]
    table["登记日期"] = ["2020-01-01", "2020-01-01", "2020-01-01"]
    table["注销日期"] = ["", "2023-06-30", "2019-01-01"]
    path = write_households(table, tmp_path / "h.csv")
    report = import_households(path, commit=True)
    assert [(p.code, p.row, p.field) for p in report.errors] == [
        ("removed_before_registered", 4, "removed_on")
    ]
    table.loc[2, "注销日期"] = ""
    report = import_households(write_households(table, tmp_path / "h2.csv"), commit=True)
    assert report.errors == []
    stored = {h.address: h for h in Household.objects.all()}
    assert stored[table["address"][1]].member_count == 2
    assert str(stored[table["address"][1]].removed_on) == "2023-06-30"


def test_unknown_field_targets_are_refused_with_the_known_ones(tree, tmp_path):
    path = write_households(household_rows(tree), tmp_path / "h.csv")
    with pytest.raises(CommandError, match="no field 'members'.*member_count"):
        run("import_households", path, "--field", "members=人数")
    report = import_households(path, fields={"size": "人数"})
    assert [p.code for p in report.errors] == ["unknown_field"]
    with pytest.raises(CommandError, match="the fields are code, name, parent_code"):
        run("import_boundaries", path, "--level", "street", "--field", "address=地址")


# ------------------------------------------------------------------- encodings and systems


def test_wrong_and_unknown_encodings_are_one_line(district, tmp_path):
    path = gbk_shapefile_without_cpg(layout()["street"], tmp_path / "streets.shp")
    with pytest.raises(CommandError) as wrong:
        run("import_boundaries", path, "--level", "street", "--encoding", "UTF-8")
    assert "streets.shp" in str(wrong.value) and "--encoding" in str(wrong.value)
    assert "\n" not in str(wrong.value)
    with pytest.raises(CommandError, match="unknown encoding 'GBKX'"):
        run("import_boundaries", path, "--level", "street", "--encoding", "GBKX")
    csv_path = tmp_path / "h.csv"
    pd.DataFrame({"address": ["中山路1号"], "lon": [106.1], "lat": [29.3]}).to_csv(
        csv_path, index=False, encoding="gbk"
    )
    with pytest.raises(CommandError, match="as utf-8"):
        run("import_households", csv_path, "--encoding", "UTF-8")


@pytest.mark.parametrize(
    ("spelling", "system"),
    [
        ("GCJ02", "GCJ-02"),
        ("gcj-02", "GCJ-02"),
        ("gcj", "GCJ-02"),
        ("火星坐标", "GCJ-02"),
        ("BD09", "BD-09"),
        ("bd-09", "BD-09"),
        ("baidu", "BD-09"),
        ("百度", "BD-09"),
        ("CGCS2000", "EPSG:4490"),
        ("2000国家大地坐标系", "EPSG:4490"),
        ("EPSG:4490", "EPSG:4490"),
        ("wgs84", "EPSG:4326"),
        ("WGS-84", "EPSG:4326"),
    ],
)
def test_common_spellings_of_the_chinese_systems(spelling, system):
    assert crs.normalise(spelling) == system


@pytest.mark.parametrize("spelling", ["gcj", "baidu"])
def test_short_system_names_work_in_the_command(tree, tmp_path, spelling):
    path = write_households(household_rows(tree), tmp_path / "h.csv")
    out, _ = run("import_households", path, "--source-crs", spelling)
    assert "Dry run" in out


def test_unknown_system_is_one_line(tree, tmp_path):
    path = write_households(household_rows(tree), tmp_path / "h.csv")
    with pytest.raises(CommandError, match="unknown coordinate system 'mars'.*火星坐标"):
        run("import_households", path, "--source-crs", "mars")


def test_zipped_gbk_shapefile_without_cpg(district, tmp_path):
    shp = gbk_shapefile_without_cpg(layout()["street"], tmp_path / "streets.shp")
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            z.write(shp.with_suffix(suffix), f"街道/streets{suffix}")
    report = import_boundaries(archive, level=Level.STREET, commit=True)
    assert report.errors == []
    assert dict(Region.objects.filter(level="street").values_list("code", "name")) == (STREET_NAMES)


# ------------------------------------------------------------------------------ layers


def test_multi_layer_geopackage_needs_a_layer_and_a_wrong_one_lists_them(district, tmp_path):
    path = tmp_path / "区划.gpkg"
    write(frame(layout()["street"]), path, layer="街道")
    write(frame(layout()["community"]), path, layer="社区", append=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw pyogrio warning either
        with pytest.raises(CommandError, match="2 layers; choose one with --layer: 街道, 社区"):
            run("import_boundaries", path, "--level", "street")
        with pytest.raises(CommandError, match="no layer 'streets'; its layers are: 街道, 社区"):
            run("import_boundaries", path, "--level", "street", "--layer", "streets")
    out, _ = run("import_boundaries", path, "--level", "street", "--layer", "街道", "--commit")
    assert "2 written" in out


# ------------------------------------------------------------------- problems and reports


def test_all_problems_are_counted_and_the_report_has_every_one(tree, tmp_path):
    n = 250
    table = pd.DataFrame(
        {
            "address": [""] * n + ["中山路1号"],
            "lon": [105.95 + i * 1e-5 for i in range(n + 1)],
            "lat": [29.35] * (n + 1),
        }
    )
    path = write_households(table, tmp_path / "h.csv")
    report_path = tmp_path / "problems.csv"
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 251 rows have no error. Nothing was written"):
        call_command(
            "import_households",
            str(path),
            "--report",
            str(report_path),
            stdout=StringIO(),
            stderr=err,
        )
    assert "… and 50 more missing_value (250 in all" in err.getvalue()
    assert err.getvalue().count("[missing_value]") == 200
    with report_path.open(encoding="utf-8-sig") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == 250
    assert lines[0]["row"] == "2" and lines[0]["field"] == "address"
    assert lines[-1]["row"] == "251"


def test_dry_run_with_errors_says_how_many_rows_are_good_and_flagged(tree, tmp_path):
    table = household_rows(tree)
    table.loc[1, "address"] = ""
    path = write_households(table, tmp_path / "h.csv")
    with pytest.raises(CommandError, match="2 of 3 rows have no error"):
        run("import_households", path)
    table = household_rows(tree)
    table.loc[1, ["lon", "lat"]] = [106.01, 29.35]  # in no grid
    out, _ = run("import_households", write_households(table, tmp_path / "ok.csv"))
    assert "1 flagged" in out and "3 would be written" in out


def test_household_dry_run_uses_no_ids(tree, tmp_path):
    path = write_households(household_rows(tree), tmp_path / "h.csv")

    def last_id():
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value, is_called FROM grids_household_id_seq")
            return cursor.fetchone()

    before = last_id()
    report = import_households(path)
    assert (report.written, report.committed) == (3, False)
    assert last_id() == before


def test_messages_quote_the_files_own_coordinates(tree, tmp_path):
    table = household_rows(tree)
    gcj_lon, gcj_lat = 116.403963, 39.915119  # Tiananmen on a Gaode map
    table.loc[1, ["lon", "lat"]] = [gcj_lon, gcj_lat]
    path = write_households(table, tmp_path / "h.csv")
    report = import_households(path, source_crs="GCJ-02")
    [problem] = report.errors
    assert problem.code == "far_outside_district"
    assert problem.location == pytest.approx((gcj_lon, gcj_lat))
    assert f"({gcj_lon:.6f}, {gcj_lat:.6f})" in problem.message


# --------------------------------------------------------------------- codes and updates


def test_generate_codes_for_a_file_without_codes(district, tmp_path):
    streets = layout()["street"]
    run(
        "import_boundaries",
        write(frame(streets), tmp_path / "s.gpkg"),
        "--level",
        "street",
        "--commit",
    )
    # Street 500119001 already has community 001 (retired codes count too).
    Region.objects.create(
        level=Level.COMMUNITY,
        code="500119001001",
        name="旧社区",
        parent=Region.objects.get(code="500119001"),
        valid_from=VALID_FROM,
        valid_to=VALID_FROM,
    )
    rows = layout()["community"]  # (500119001: west half, two communities; 500119002: east)
    nameless = pd.DataFrame({"名称": [r[1] for r in rows]})
    gdf = pyogrio.read_dataframe(write(frame(rows), tmp_path / "c.gpkg"))
    gdf = gdf.drop(columns=["code"]).assign(name=nameless["名称"])
    path = tmp_path / "无编码.shp"
    write(gdf[["name", "geometry"]], path, encoding="GBK")
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("import_boundaries", str(path), "--level", "community", stderr=err)
    assert "no column for code" in err.getvalue()
    out, _ = run("import_boundaries", path, "--level", "community", "--generate-codes", "--commit")
    assert "4 written" in out
    got = dict(
        Region.objects.filter(level="community", valid_to__isnull=True).values_list("name", "code")
    )
    # South of a street comes first on equal longitude? Both communities of a street share
    # their centroid's longitude: north before south.
    assert got == {
        "宝城社区": "500119001002",  # north half of street 1
        "玉屏社区": "500119001003",
        "棠香社区": "500119002001",
        "海棠社区": "500119002002",
    }
    assert "code 500119001002 generated for 宝城社区 under 500119001" in out


def test_update_makes_new_versions_for_known_codes(district, tmp_path):
    streets = layout()["street"]
    path = write(frame(streets), tmp_path / "s.gpkg")
    run("import_boundaries", path, "--level", "street", "--commit", "--valid-from", VALID_FROM)
    err = StringIO()
    with pytest.raises(CommandError, match="2 errors"):
        call_command("import_boundaries", str(path), "--level", "street", stderr=err)
    assert err.getvalue().count("pass --update") == 2
    code, name, geom = streets[0]
    moved = box(geom.bounds[0], geom.bounds[1], geom.bounds[2] - 0.001, geom.bounds[3])
    changed = [(code, name + "（新）", moved), streets[1]]
    path = write(frame(changed), tmp_path / "s2.gpkg")
    out, _ = run(
        "import_boundaries",
        path,
        "--level",
        "street",
        "--update",
        "--valid-from",
        "2025-01-01",
        "--commit",
    )
    assert "1 updated, 1 unchanged" in out
    assert out.count("[updated]") == 1 and out.count("[unchanged]") == 1
    street = Region.objects.get(code=code)
    assert street.name == name + "（新）"
    versions = RegionBoundary.objects.filter(region=street).order_by("valid_from")
    assert [(str(v.valid_from), str(v.valid_to)) for v in versions] == [
        (str(VALID_FROM), "2025-01-01"),
        ("2025-01-01", "None"),
    ]
    assert RegionBoundary.objects.filter(region__code=streets[1][0]).count() == 1


# ------------------------------------------------------------------- GCJ-02 labelled WGS84


def test_gcj_grids_labelled_wgs84_are_warned_with_the_offset(blank, tmp_path):
    rows = [(code, name, gcj(geom)) for code, name, geom in layout()["grid"]]
    path = write(frame(rows, crs_name="EPSG:4326"), tmp_path / "grids.geojson")
    report = import_boundaries(path, level="grid")
    [warning] = [p for p in report.warnings if p.code == "likely_offset"]
    assert "GCJ-02" in warning.message and "--source-crs GCJ-02" in warning.message
    offset = float(warning.message.split("offset of about ")[1].split(" m")[0])
    assert 300 < offset < 800
    # Declared right, the file lines up and nothing is said.
    report = import_boundaries(path, level="grid", source_crs="gcj")
    assert not [p for p in report.problems if p.code == "likely_offset"]


def test_bd09_households_labelled_wgs84_are_warned(tree, tmp_path):
    rng = np.random.default_rng(15)
    lon = rng.uniform(105.91, 105.99, 60)
    lat = rng.uniform(29.31, 29.39, 60)
    there = pd.DataFrame(
        {
            "address": [f"中山路{i}号" for i in range(60)],
            "lon": lon,
            "lat": lat,
            "client_key": [f"K{i}" for i in range(60)],
        }
    )
    import_households(write_households(there, tmp_path / "there.csv"), commit=True)
    again = there.copy()
    again["client_key"] = [f"N{i}" for i in range(60)]
    again["lon"], again["lat"] = crs.wgs84_to_bd09(lon, lat)
    report = import_households(write_households(again, tmp_path / "bd.csv"))
    [warning] = [p for p in report.warnings if p.code == "likely_offset"]
    assert "BD-09" in warning.message and "households" in warning.message


# ---------------------------------------------------------------------------------- help


def test_boundary_help_has_no_household_options(capsys):
    with pytest.raises(SystemExit):
        call_command("import_boundaries", "--help")
    boundary_help = capsys.readouterr().out
    assert "member_count" not in boundary_help and "CSV/XLSX" not in boundary_help
    assert "--generate-codes" in boundary_help and "--update" in boundary_help
    with pytest.raises(SystemExit):
        call_command("import_households", "--help")
    household_help = capsys.readouterr().out
    assert "member_count" in household_help and "--level" not in household_help
