"""Importing boundaries and households from the files people have: formats, encodings,
coordinate systems, every kind of bad input reported by row and field, all or nothing."""

from __future__ import annotations

import datetime as dt
import warnings
from io import StringIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from pyproj import Geod
from shapely.geometry import box

from grids.models import Grid, GridBoundary, Household, Level, Region, RegionBoundary, Theme
from grids.services import boundaries, crs, households
from grids.services.imports import import_boundaries, import_households
from tests.conftest import VALID_FROM, centre_of


@pytest.fixture(autouse=True)
def english():
    """These tests check the English wording of the messages (run with --language en); the
    Chinese the commands and the API speak by default is tested in test_import_words.py."""
    with translation.override("en"):
        yield


GEOD = Geod(ellps="WGS84")

# A fresh district east of the fixture tree, imported level by level from files.
NX0, NY0, NX1, NY1 = 106.10, 29.30, 106.20, 29.40
STREET_NAMES = {"500119001": "昌元街道", "500119002": "昌州街道"}
COMMUNITY_NAMES = ["玉屏社区", "宝城社区", "海棠社区", "棠香社区"]


def layout() -> dict[str, list[tuple[str, str, shapely.Geometry]]]:
    """Rows (code, name, geometry) of every level of district 500119."""
    xm, ym = (NX0 + NX1) / 2, (NY0 + NY1) / 2
    levels = {
        "district": [("500119", "荣昌区", box(NX0, NY0, NX1, NY1))],
        "street": [],
        "community": [],
        "grid": [],
    }
    names = iter(COMMUNITY_NAMES)
    for s, (sx0, sx1) in enumerate([(NX0, xm), (xm, NX1)], 1):
        street = f"500119{s:03d}"
        levels["street"].append((street, STREET_NAMES[street], box(sx0, NY0, sx1, NY1)))
        for c, (cy0, cy1) in enumerate([(NY0, ym), (ym, NY1)], 1):
            community, name = f"{street}{c:03d}", next(names)
            levels["community"].append((community, name, box(sx0, cy0, sx1, cy1)))
            gx = (sx0 + sx1) / 2
            for g, (gx0, gx1) in enumerate([(sx0, gx), (gx, sx1)], 1):
                levels["grid"].append(
                    (f"{community}{g:03d}", f"{name}第{g}网格", box(gx0, cy0, gx1, cy1))
                )
    return levels


def frame(rows, crs_name: str = "EPSG:4490", **columns) -> gpd.GeoDataFrame:
    data = {"code": [r[0] for r in rows], "name": [r[1] for r in rows], **columns}
    return gpd.GeoDataFrame(data, geometry=[r[2] for r in rows], crs=crs_name)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    with warnings.catch_warnings():
        # Files without a coordinate system are written on purpose.
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def stored_regions(level: str) -> dict[str, tuple[str, shapely.Geometry]]:
    return {
        r.code: (r.name, shapely.from_wkb(bytes(r.boundary_on().wkb)))
        for r in Region.objects.filter(level=level)
    }


def assert_same_shapes(stored: dict, rows, tolerance: float = 1e-6) -> None:
    assert set(stored) == {code for code, _, _ in rows}
    for code, name, geom in rows:
        got_name, got = stored[code]
        assert got_name == name
        assert shapely.hausdorff_distance(got, geom) < tolerance, code


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        RegionBoundary.objects.count(),
        Grid.objects.count(),
        GridBoundary.objects.count(),
        Household.objects.count(),
    )


def codes(report) -> list[str]:
    return [p.code for p in report.errors]


@pytest.fixture
def district(db):
    """District 500119 alone, so that streets can be imported under it."""
    code, name, geom = layout()["district"][0]
    return boundaries.create_region(
        level=Level.DISTRICT, code=code, name=name, geom=geom, valid_from=VALID_FROM
    )


@pytest.fixture
def blank(district):
    """District 500119 with its streets and communities, and no grids."""
    levels = layout()
    parents = {district.code: district}
    for level in (Level.STREET, Level.COMMUNITY):
        for code, name, geom in levels[level]:
            parents[code] = boundaries.create_region(
                level=level,
                code=code,
                name=name,
                geom=geom,
                parent=parents[code[: len(code) - 3]],
                valid_from=VALID_FROM,
            )
    return parents


# ===================================================================== boundaries


def test_import_the_whole_tree_level_by_level_from_files(db, tmp_path):
    levels = layout()
    files = {
        # CGCS2000 geographic, GeoJSON
        "district": write(frame(levels["district"]), tmp_path / "district.geojson"),
        # GBK shapefile (with its .cpg)
        "street": write(frame(levels["street"]), tmp_path / "streets.shp", encoding="GBK"),
        # GeoPackage in a CGCS2000 Gauss-Krüger zone (metres)
        "community": write(
            frame(levels["community"]).to_crs("EPSG:4545"), tmp_path / "communities.gpkg"
        ),
        # KML (always WGS84)
        "grid": write(frame(levels["grid"]), tmp_path / "grids.kml", driver="KML"),
    }
    assert (tmp_path / "streets.cpg").exists()
    for level, path in files.items():
        report = import_boundaries(path, level=level, valid_from=VALID_FROM, commit=True)
        assert report.errors == [], (level, report.errors)
        assert report.committed
        assert (report.total, report.written) == (len(levels[level]), len(levels[level]))

    for level in ("district", "street", "community"):
        assert_same_shapes(stored_regions(level), levels[level])
    grids = {
        g.code: (g.name, shapely.from_wkb(bytes(g.boundary_on().wkb))) for g in Grid.objects.all()
    }
    assert_same_shapes(grids, levels["grid"])
    assert Region.objects.get(code="500119001002").parent.code == "500119001"
    assert Grid.objects.get(code="500119002001002").community.code == "500119002001"
    assert all(g.theme == Theme.GOVERNANCE for g in Grid.objects.all())
    assert all(r.valid_from == VALID_FROM for r in Region.objects.all())
    # The imported tree keys households like one built by hand.
    household, _ = households.create_household(address="玉屏路1号", location=Point(106.11, 29.31))
    assert household.grid.code == "500119001001001"


@pytest.mark.parametrize(
    ("encoding", "keep_cpg"),
    [("GBK", True), ("GBK", False), ("UTF-8", True), ("UTF-8", False)],
    ids=["gbk-cpg", "gbk-no-cpg", "utf8-cpg", "utf8-no-cpg"],
)
def test_shapefile_chinese_names_read_right(district, tmp_path, encoding, keep_cpg):
    rows = layout()["street"]
    path = write(frame(rows), tmp_path / "streets.shp", encoding=encoding)
    if not keep_cpg:
        (tmp_path / "streets.cpg").unlink()
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert report.errors == []
    assert report.written == 2
    assert dict(Region.objects.filter(level=Level.STREET).values_list("code", "name")) == (
        STREET_NAMES
    )


@pytest.mark.parametrize("source", ["EPSG:4490", "EPSG:4545", "EPSG:4547", "EPSG:4326"])
def test_boundaries_in_any_epsg_system(db, tmp_path, source):
    rows = layout()["district"]
    gdf = frame(rows, crs_name="EPSG:4326")
    gdf = gdf.set_crs(source, allow_override=True) if source == "EPSG:4490" else gdf.to_crs(source)
    path = write(gdf, tmp_path / "district.gpkg")
    report = import_boundaries(path, level=Level.DISTRICT, commit=True)
    assert report.errors == []
    assert_same_shapes(stored_regions(Level.DISTRICT), rows)


@pytest.mark.parametrize(
    ("source", "forward"),
    [("GCJ-02", crs.wgs84_to_gcj02), ("BD-09", crs.wgs84_to_bd09)],
    ids=["gcj02", "bd09"],
)
def test_boundaries_from_web_map_offsets(db, tmp_path, source, forward):
    rows = layout()["district"]
    offset = [
        (code, name, shapely.transform(geom, lambda xy: np.column_stack(forward(*xy.T))))
        for code, name, geom in rows
    ]
    # Web-map files usually say WGS84 while holding offset coordinates.
    path = write(frame(offset, crs_name="EPSG:4326"), tmp_path / "district.geojson")
    assert shapely.hausdorff_distance(offset[0][2], rows[0][2]) > 0.001  # hundreds of metres
    report = import_boundaries(path, level=Level.DISTRICT, source_crs=source, commit=True)
    assert report.errors == []
    assert_same_shapes(stored_regions(Level.DISTRICT), rows, tolerance=5e-8)


def test_dry_run_writes_nothing_but_reports_what_would_be_written(district, tmp_path):
    path = write(frame(layout()["street"]), tmp_path / "streets.gpkg")
    before = counts()
    report = import_boundaries(path, level=Level.STREET)
    assert report.errors == []
    assert (report.total, report.written, report.committed) == (2, 2, False)
    assert counts() == before
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert (report.written, report.committed) == (2, True)
    assert Region.objects.filter(level=Level.STREET).count() == 2


def test_integer_codes_are_read_as_codes(district, tmp_path):
    rows = layout()["street"]
    gdf = frame(rows)
    gdf["code"] = gdf["code"].astype("int64")
    path = write(gdf, tmp_path / "streets.gpkg")
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert report.errors == []
    assert set(Region.objects.filter(level=Level.STREET).values_list("code", flat=True)) == set(
        STREET_NAMES
    )


BOW_TIE = shapely.Polygon([(106.16, 29.31), (106.19, 29.34), (106.19, 29.31), (106.16, 29.34)])


def test_self_intersecting_polygon_is_reported_by_row_and_nothing_written(district, tmp_path):
    rows = layout()["street"]
    rows[1] = (rows[1][0], rows[1][1], BOW_TIE)
    path = write(frame(rows), tmp_path / "streets.gpkg")
    before = counts()
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert codes(report) == ["invalid_geometry"]
    problem = report.errors[0]
    assert (problem.row, problem.field) == (2, "geometry")
    assert problem.location == pytest.approx((106.175, 29.325))
    assert "500119002" in problem.feature
    assert not report.committed
    assert counts() == before  # the good first row is not written either

    report = import_boundaries(path, level=Level.STREET, repair=True, commit=True)
    assert report.errors == []
    assert Region.objects.filter(level=Level.STREET).count() == 2


def test_projected_coordinates_without_a_crs_are_wrong_crs(district, tmp_path):
    rows = layout()["street"]
    gk = frame(rows).to_crs("EPSG:4545").set_crs(None, allow_override=True)
    path = write(gk, tmp_path / "streets.shp")
    assert not (tmp_path / "streets.prj").exists()
    before = counts()
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert codes(report) == ["wrong_crs", "wrong_crs"]
    assert [(p.row, p.field) for p in report.errors] == [(1, "geometry"), (2, "geometry")]
    assert "crs_assumed" in [p.code for p in report.warnings]
    assert counts() == before
    # Told the system, the same file imports.
    report = import_boundaries(path, level=Level.STREET, source_crs="EPSG:4545", commit=True)
    assert report.errors == []
    assert_same_shapes(stored_regions(Level.STREET), rows)


def test_projected_coordinates_declared_as_degrees_are_wrong_crs(district, tmp_path):
    rows = layout()["street"]
    gk = frame(rows).to_crs("EPSG:4545").set_crs("EPSG:4490", allow_override=True)
    path = write(gk, tmp_path / "streets.geojson")
    before = counts()
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert set(codes(report)) == {"wrong_crs"}
    assert sorted(p.row for p in report.errors) == [1, 2]
    assert counts() == before


def test_duplicate_codes_in_the_file_are_reported(district, tmp_path):
    rows = layout()["street"]
    rows[1] = (rows[0][0], "重名街道", rows[1][2])
    path = write(frame(rows), tmp_path / "streets.gpkg")
    before = counts()
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert codes(report) == ["duplicate_code"]
    problem = report.errors[0]
    assert (problem.row, problem.field, problem.feature) == (2, "code", "500119001")
    assert counts() == before


def test_codes_already_in_the_platform_are_reported(district, tmp_path):
    path = write(frame(layout()["district"]), tmp_path / "district.gpkg")
    report = import_boundaries(path, level=Level.DISTRICT, commit=True)
    assert codes(report) == ["duplicate_code"]
    assert report.errors[0].row == 1
    assert Region.objects.count() == 1


def test_bad_codes_and_unknown_parents_are_reported(district, tmp_path):
    rows = [
        ("50011900", "短码", box(106.10, 29.30, 106.12, 29.40)),
        ("500118001", "别区", box(106.12, 29.30, 106.14, 29.40)),
        ("500119003", "好的", box(106.14, 29.30, 106.16, 29.40)),
    ]
    path = write(frame(rows), tmp_path / "streets.gpkg")
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert [(p.code, p.row) for p in report.errors] == [("bad_code", 1), ("unknown_parent", 2)]
    assert Region.objects.count() == 1


def test_missing_field_is_reported(district, tmp_path):
    rows = layout()["street"]
    gdf = frame(rows).rename(columns={"code": "区划"})
    path = write(gdf, tmp_path / "streets.gpkg")
    report = import_boundaries(path, level=Level.STREET, commit=True)
    assert codes(report) == ["missing_field"]
    assert report.errors[0].field == "code"
    assert "区划" in report.errors[0].message
    report = import_boundaries(path, level=Level.STREET, fields={"code": "编号"}, commit=True)
    assert codes(report) == ["missing_field"]
    assert report.errors[0].field == "编号"
    assert Region.objects.count() == 1
    report = import_boundaries(path, level=Level.STREET, fields={"code": "区划"}, commit=True)
    assert report.errors == []
    assert Region.objects.count() == 3


def test_empty_name_is_reported(district, tmp_path):
    rows = layout()["street"]
    rows[0] = (rows[0][0], "", rows[0][2])
    report = import_boundaries(
        write(frame(rows), tmp_path / "s.gpkg"), level=Level.STREET, commit=True
    )
    assert [(p.code, p.row, p.field) for p in report.errors] == [("missing_value", 1, "name")]
    assert Region.objects.count() == 1


def test_overlapping_grids_in_one_file_are_refused(blank, tmp_path):
    rows = [
        ("500119001001001", "甲", box(106.10, 29.30, 106.13, 29.35)),
        ("500119001001002", "乙", box(106.12, 29.30, 106.15, 29.35)),
    ]
    path = write(frame(rows), tmp_path / "grids.gpkg")
    before = counts()
    report = import_boundaries(path, level="grid", commit=True)
    assert set(codes(report)) == {"overlap"}
    assert {p.row for p in report.errors} <= {1, 2}
    assert all(p.location for p in report.errors)
    assert not report.committed
    assert counts() == before


def test_grid_outside_its_community_in_a_file_is_refused(blank, tmp_path):
    rows = [("500119001001001", "甲", box(106.10, 29.30, 106.13, 29.36))]
    report = import_boundaries(
        write(frame(rows), tmp_path / "grids.gpkg"), level="grid", commit=True
    )
    assert codes(report) == ["outside_parent"]
    assert report.errors[0].row == 1
    assert not Grid.objects.exists()


def test_governance_grids_import_keys_flagged_households(blank, tmp_path):
    flagged, _ = households.create_household(address="昌元路1号", location=Point(106.11, 29.31))
    assert flagged.grid is None
    rows = layout()["grid"]
    report = import_boundaries(write(frame(rows), tmp_path / "g.gpkg"), level="grid", commit=True)
    assert report.errors == []
    flagged.refresh_from_db()
    assert flagged.grid.code == "500119001001001"


def test_forest_fire_grids_overlay_the_tree(tree, tmp_path, homes):
    rows = [
        (f"{c.code}101", f"{c.name}防火网格", shapely.from_wkb(bytes(c.boundary_on().wkb)))
        for c in tree.communities.values()
    ]
    path = write(frame(rows), tmp_path / "forest.gpkg")
    governance = Grid.objects.filter(theme=Theme.GOVERNANCE).count()
    report = import_boundaries(path, level="grid", theme=Theme.FOREST_FIRE, commit=True)
    assert report.errors == []
    assert Grid.objects.filter(theme=Theme.FOREST_FIRE).count() == 4
    assert Grid.objects.filter(theme=Theme.GOVERNANCE).count() == governance
    for key, household in homes.items():
        household.refresh_from_db()
        assert household.grid == tree.grids[key]
    # As governance grids, the same file would overlap the tree's grids.
    rows = [(f"{code[:12]}201", name, geom) for code, name, geom in rows]
    path = write(frame(rows), tmp_path / "gov.gpkg")
    report = import_boundaries(path, level="grid", commit=True)
    assert set(codes(report)) == {"overlap"}


def test_unreadable_file_is_reported(db, tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage")
    report = import_boundaries(path, level=Level.DISTRICT, commit=True)
    assert codes(report) == ["unreadable"]
    assert not Region.objects.exists()


# ===================================================================== households

# Households in the tree fixture's district 500118 (lon 105.90-106.00, lat 29.30-29.40).


def household_rows(tree, n_keys: bool = False) -> pd.DataFrame:
    grids = [tree.grids[key] for key in ((1, 1, 1), (1, 2, 2), (2, 1, 2))]
    points = [centre_of(g) for g in grids]
    data = {
        "address": [f"重庆市永川区中山路{i + 1}号" for i in range(len(points))],
        "lon": [p.x for p in points],
        "lat": [p.y for p in points],
    }
    if n_keys:
        data["client_key"] = [f"HH-{i + 1:04d}" for i in range(len(points))]
    return pd.DataFrame(data)


def write_households(table: pd.DataFrame, path: Path, crs_name: str = "EPSG:4326") -> Path:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".xlsx":
        table.to_excel(path, index=False)
    else:
        points = gpd.GeoDataFrame(
            table.drop(columns=["lon", "lat"]),
            geometry=gpd.points_from_xy(table["lon"], table["lat"]),
            crs="EPSG:4326",
        )
        if crs_name != "EPSG:4326":
            points = points.to_crs(crs_name)
        kwargs = {"driver": "KML"} if suffix == ".kml" else {}
        pyogrio.write_dataframe(points, path, **kwargs)
    return path


def stored_households() -> dict[str, tuple[str | None, tuple[float, float]]]:
    return {
        h.address: (h.grid.code if h.grid else None, (h.location.x, h.location.y))
        for h in Household.objects.select_related("grid")
    }


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".gpkg", ".kml", ".shp"])
def test_households_from_every_format(tree, tmp_path, suffix):
    table = household_rows(tree, n_keys=True)
    path = write_households(table, tmp_path / f"households{suffix}")
    report = import_households(path, commit=True)
    assert report.errors == []
    assert (report.total, report.written, report.committed) == (3, 3, True)
    stored = stored_households()
    assert set(stored) == set(table["address"])
    expected_grids = ["500118001001001", "500118001002002", "500118002001002"]
    for (address, lon, lat), grid in zip(
        table[["address", "lon", "lat"]].itertuples(index=False), expected_grids, strict=True
    ):
        assert stored[address][0] == grid
        assert metres(stored[address][1], (lon, lat)) < 0.01
    assert set(Household.objects.values_list("client_key", flat=True)) == set(table["client_key"])


def test_gbk_csv_is_read(tree, tmp_path):
    table = household_rows(tree)
    path = tmp_path / "gbk.csv"
    table.to_csv(path, index=False, encoding="gbk")
    report = import_households(path, commit=True)
    assert report.errors == []
    assert set(stored_households()) == set(table["address"])


@pytest.mark.parametrize(
    "source", ["EPSG:4490", "EPSG:4545", "EPSG:4547", "GCJ-02", "BD-09", "CGCS2000"]
)
def test_households_from_any_coordinate_system_land_where_they_were(tree, tmp_path, source):
    table = household_rows(tree)
    originals = dict(
        zip(table["address"], zip(table["lon"], table["lat"], strict=True), strict=True)
    )
    if source in ("GCJ-02", "BD-09"):
        forward = crs.wgs84_to_gcj02 if source == "GCJ-02" else crs.wgs84_to_bd09
        shifted = table.copy()
        shifted["lon"], shifted["lat"] = forward(table["lon"].to_numpy(), table["lat"].to_numpy())
        assert metres((shifted["lon"][0], shifted["lat"][0]), originals[table["address"][0]]) > 100
        path = write_households(shifted, tmp_path / "h.csv")
        report = import_households(path, source_crs=source, commit=True)
    elif source == "CGCS2000":
        path = write_households(table, tmp_path / "h.csv")
        report = import_households(path, source_crs=source, commit=True)
    else:
        path = write_households(table, tmp_path / "h.gpkg", crs_name=source)
        report = import_households(path, commit=True)
    assert report.errors == []
    assert report.written == 3
    stored = stored_households()
    for address, original in originals.items():
        assert metres(stored[address][1], original) < 0.5, address
    assert {grid for grid, _ in stored.values()} == {
        "500118001001001",
        "500118001002002",
        "500118002001002",
    }


def test_projected_csv_with_source_crs(tree, tmp_path):
    table = household_rows(tree)
    points = gpd.GeoSeries(gpd.points_from_xy(table["lon"], table["lat"]), crs=4490).to_crs(4545)
    gk = pd.DataFrame({"地址": table["address"], "x": points.x, "y": points.y})
    path = tmp_path / "gk.csv"
    gk.to_csv(path, index=False)
    report = import_households(path, source_crs="EPSG:4545", commit=True)
    assert report.errors == []
    for address, (_, where) in stored_households().items():
        row = table[table["address"] == address].iloc[0]
        assert metres(where, (row["lon"], row["lat"])) < 0.5


def test_household_dry_run_writes_nothing_and_commit_writes_all(tree, tmp_path):
    path = write_households(household_rows(tree), tmp_path / "h.csv")
    report = import_households(path)
    assert report.errors == []
    assert (report.total, report.written, report.committed) == (3, 3, False)
    assert not Household.objects.exists()
    report = import_households(path, commit=True)
    assert (report.written, report.committed) == (3, True)
    assert Household.objects.count() == 3


def _bad(table: pd.DataFrame, **values) -> pd.DataFrame:
    table = table.astype(object)
    for column, value in values.items():
        table.loc[1, column] = value
    return table


BAD_ROWS = {
    # name: (change to the second data row, expected code, expected field)
    "swapped": (lambda t: _bad(t, lon=t["lat"][1], lat=t["lon"][1]), "swapped_lat_lon", "lon/lat"),
    "far": (lambda t: _bad(t, lon=116.397, lat=39.909), "far_outside_district", "lon/lat"),
    "empty_address": (lambda t: _bad(t, address=""), "missing_value", "address"),
    "projected": (lambda t: _bad(t, lon=393000.0, lat=3248000.0), "wrong_crs", "geometry"),
    "not_a_number": (lambda t: _bad(t, lon="东经105度"), "missing_coordinates", "lon/lat"),
    "duplicate_key": (lambda t: _bad(t, client_key="HH-0001"), "duplicate_key", "client_key"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_one_bad_row_is_reported_and_nothing_written(tree, tmp_path, case):
    change, code, field = BAD_ROWS[case]
    table = change(household_rows(tree, n_keys=True))
    path = write_households(table, tmp_path / "h.csv")
    report = import_households(path, commit=True)
    # The second data row is row 3 of the spreadsheet (the header is row 1).
    assert [(p.code, p.row, p.field) for p in report.errors] == [(code, 3, field)]
    assert report.written == 0
    assert not report.committed
    assert not Household.objects.exists()
    if code == "far_outside_district":
        assert report.errors[0].location == pytest.approx((116.397, 39.909))


def test_bad_row_in_a_point_file_is_reported_by_feature(tree, tmp_path):
    table = household_rows(tree)
    table.loc[2, "address"] = ""
    path = write_households(table, tmp_path / "h.gpkg")
    report = import_households(path, commit=True)
    assert [(p.code, p.row) for p in report.errors] == [("missing_value", 3)]
    assert not Household.objects.exists()


def test_point_file_in_metres_declared_as_degrees_is_wrong_crs(tree, tmp_path):
    table = household_rows(tree)
    path = write_households(table, tmp_path / "h.gpkg", crs_name="EPSG:4545")
    gdf = pyogrio.read_dataframe(path).set_crs("EPSG:4490", allow_override=True)
    path = write(gdf, tmp_path / "declared.gpkg")
    report = import_households(path, commit=True)
    assert set(codes(report)) == {"wrong_crs"}
    assert sorted(p.row for p in report.errors) == [1, 2, 3]
    assert not Household.objects.exists()


@pytest.mark.parametrize("drop", ["lat", "address"])
def test_missing_column_is_reported(tree, tmp_path, drop):
    path = write_households(household_rows(tree).drop(columns=[drop]), tmp_path / "h.csv")
    report = import_households(path, commit=True)
    assert codes(report) == ["missing_field"]
    assert report.errors[0].field == drop
    assert not Household.objects.exists()


def test_point_outside_every_grid_is_kept_and_flagged(tree, tmp_path):
    table = household_rows(tree)
    table.loc[1, ["lon", "lat"]] = [106.01, 29.35]  # 1 km east of the district
    path = write_households(table, tmp_path / "h.csv")
    report = import_households(path)
    assert report.errors == []
    assert [(p.code, p.row, p.severity) for p in report.warnings] == [
        ("outside_grid", 3, "warning")
    ]
    assert report.flagged == 1
    assert not Household.objects.exists()
    report = import_households(path, commit=True)
    assert report.committed
    assert report.written == 3
    assert report.flagged == 1
    flagged = Household.objects.unassigned().get()
    assert flagged.address == table["address"][1]
    assert Household.objects.filter(grid__isnull=False).count() == 2


def test_reimporting_with_client_keys_skips_what_is_there(tree, tmp_path):
    table = household_rows(tree, n_keys=True)
    path = write_households(table, tmp_path / "h.csv")
    first = import_households(path, commit=True)
    assert (first.written, first.skipped_existing) == (3, 0)
    again = import_households(path, commit=True)
    assert again.errors == []
    assert (again.written, again.skipped_existing) == (0, 3)
    assert Household.objects.count() == 3
    # A file with one new row adds only that one.
    more = pd.concat(
        [
            table,
            pd.DataFrame(
                {
                    "address": ["重庆市永川区中山路4号"],
                    "lon": [table["lon"][0]],
                    "lat": [table["lat"][0]],
                    "client_key": ["HH-0004"],
                }
            ),
        ]
    )
    report = import_households(write_households(more, tmp_path / "more.csv"), commit=True)
    assert (report.written, report.skipped_existing) == (1, 3)
    assert Household.objects.count() == 4


def test_registered_on_column_is_used(tree, tmp_path):
    table = household_rows(tree)
    table["登记日期"] = ["2024-05-01", "2024-06-01", ""]
    path = write_households(table, tmp_path / "h.csv")
    report = import_households(path, commit=True)
    assert report.errors == []
    dates = dict(Household.objects.values_list("address", "registered_on"))
    assert dates[table["address"][0]] == dt.date(2024, 5, 1)
    assert dates[table["address"][1]] == dt.date(2024, 6, 1)


# ====================================================================== commands


def run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_boundaries_command_dry_run_and_commit(district, tmp_path):
    path = write(frame(layout()["street"]), tmp_path / "streets.shp", encoding="GBK")
    out, _ = run("import_boundaries", path, "--level", "street")
    assert "Dry run" in out
    assert "2 would be written" in out
    assert Region.objects.count() == 1
    out, _ = run("import_boundaries", path, "--level", "street", "--commit")
    assert "2 written" in out
    assert set(Region.objects.filter(level="street").values_list("name", flat=True)) == set(
        STREET_NAMES.values()
    )


def test_import_boundaries_command_fails_on_errors(district, tmp_path):
    rows = layout()["street"]
    rows[1] = (rows[1][0], rows[1][1], BOW_TIE)
    path = write(frame(rows), tmp_path / "streets.gpkg")
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("import_boundaries", str(path), "--level", "street", "--commit", stderr=err)
    assert "invalid_geometry" in err.getvalue()
    assert "row 2" in err.getvalue()
    assert Region.objects.count() == 1


def test_import_boundaries_command_field_mapping_and_source_crs(district, tmp_path):
    rows = layout()["street"]
    gdf = (
        frame(rows)
        .rename(columns={"code": "区划代码", "name": "区划名称"})
        .to_crs("EPSG:4545")
        .set_crs(None, allow_override=True)
    )
    path = write(gdf, tmp_path / "streets.shp", encoding="GBK")
    (tmp_path / "streets.cpg").unlink()
    with pytest.raises(CommandError):
        run("import_boundaries", path, "--level", "street", "--commit")
    out, _ = run(
        "import_boundaries",
        path,
        "--level",
        "street",
        "--field",
        "code=区划代码",
        "--field",
        "name=区划名称",
        "--source-crs",
        "EPSG:4545",
        "--commit",
    )
    assert "2 written" in out
    assert_same_shapes(stored_regions(Level.STREET), rows)
    with pytest.raises(CommandError, match="OURS=THEIRS"):
        run("import_boundaries", path, "--level", "street", "--field", "code")


def test_import_boundaries_command_theme(tree, tmp_path):
    community = tree.communities[(2, 2)]
    rows = [("500118002002101", "防火网格", shapely.from_wkb(bytes(community.boundary_on().wkb)))]
    path = write(frame(rows), tmp_path / "forest.geojson")
    run("import_boundaries", path, "--level", "grid", "--theme", "forest_fire", "--commit")
    assert Grid.objects.get(code="500118002002101").theme == Theme.FOREST_FIRE


def test_import_households_command(tree, tmp_path):
    table = household_rows(tree, n_keys=True)
    shifted = table.copy()
    shifted["lon"], shifted["lat"] = crs.wgs84_to_gcj02(
        table["lon"].to_numpy(), table["lat"].to_numpy()
    )
    shifted = shifted.rename(columns={"address": "门牌"})
    path = write_households(shifted, tmp_path / "gcj.csv")
    with pytest.raises(CommandError, match="Nothing was written"):
        run("import_households", path, "--source-crs", "gcj02", "--commit")
    out, _ = run("import_households", path, "--field", "address=门牌", "--source-crs", "gcj02")
    assert "Dry run" in out and "3 would be written" in out
    assert not Household.objects.exists()
    out, _ = run(
        "import_households", path, "--field", "address=门牌", "--source-crs", "gcj02", "--commit"
    )
    assert "3 written" in out
    for address, (_, where) in stored_households().items():
        row = table[table["address"] == address].iloc[0]
        assert metres(where, (row["lon"], row["lat"])) < 0.5
    out, _ = run(
        "import_households", path, "--field", "address=门牌", "--source-crs", "gcj02", "--commit"
    )
    assert "3 already present" in out
    assert Household.objects.count() == 3


def test_import_households_command_without_source_crs_sees_the_offset_as_is(tree, tmp_path):
    """GCJ-02 points read as WGS84 stay where the file says (hundreds of metres off): the
    importer cannot know; the command's --source-crs is the remedy."""
    table = household_rows(tree)
    shifted = table.copy()
    shifted["lon"], shifted["lat"] = crs.wgs84_to_gcj02(
        table["lon"].to_numpy(), table["lat"].to_numpy()
    )
    path = write_households(shifted, tmp_path / "gcj.csv")
    run("import_households", path, "--commit")
    first = Household.objects.get(address=table["address"][0])
    assert metres((first.location.x, first.location.y), (table["lon"][0], table["lat"][0])) > 100
