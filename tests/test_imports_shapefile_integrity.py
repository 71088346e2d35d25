"""A shapefile whose parts disagree (#15, sections 2 and 6): a .dbf with fewer or more rows
than the .shp has shapes, a missing .shx or .dbf, a .shp or .dbf cut short. GDAL reads all of
them without a word and drops features, so a layout import would retire the grids it lost and
the boundary and household imports would lose rows. Each is refused naming the file and the
counts, and nothing is written."""

from __future__ import annotations

import re
import shutil
import zipfile
from io import StringIO
from pathlib import Path

import geopandas as gpd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from shapely.geometry import box

from boundaries.models import ChangeSet
from grids.models import Household, Region
from tests.test_imports import district, household_rows, layout, run  # noqa: F401


@pytest.fixture(autouse=True)
def english():
    """These tests check the English wording of the messages (run with --language en); the
    Chinese the commands and the API speak by default is tested in test_import_words.py."""
    with translation.override("en"):
        yield


C11 = "500118001001"  # community (1, 1) of the fixture tree


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_file(path, encoding="UTF-8")
    return path


def with_dbf_of(shp: Path, other: gpd.GeoDataFrame) -> Path:
    """The shapefile `shp` with the .dbf of `other` (same columns, another number of rows)
    copied over its own: what a half-finished copy or an edit outside a GIS leaves."""
    scratch = write_shapefile(other, shp.parent / "scratch" / shp.name)
    shutil.copy(scratch.with_suffix(".dbf"), shp.with_suffix(".dbf"))
    return shp


def zipped(shp: Path, folder: str = "") -> Path:
    archive = shp.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as z:
        for part in sorted(shp.parent.glob(f"{shp.stem}.*")):
            if part.suffix != ".zip":
                z.write(part, f"{folder}{part.name}")
    return archive


def names_both_counts(message: str, dbf: str, rows: int, shp: str, shapes: int) -> bool:
    pattern = rf"{re.escape(dbf)}\D+{rows}\D+{re.escape(shp)}\D+{shapes}\D"
    return re.search(pattern, message) is not None


# ---------------------------------------------------------------------------- households


def household_points(tree, n: int) -> gpd.GeoDataFrame:
    table = household_rows(tree)
    table = table.loc[[i % len(table) for i in range(n)]].reset_index(drop=True)
    table["address"] = [f"重庆市永川区中山路{i + 1}号" for i in range(n)]
    return gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(("rows", "zip_it"), [(2, False), (5, False), (2, True)])
def test_household_shapefile_whose_dbf_disagrees_is_refused(tree, tmp_path, rows, zip_it):
    shp = write_shapefile(household_points(tree, 3), tmp_path / "hh" / "住户.shp")
    with_dbf_of(shp, household_points(tree, rows))
    path = zipped(shp, "住户/") if zip_it else shp
    before = Household.objects.count()
    with pytest.raises(CommandError) as refused:
        run("import_households", path, "--commit")
    dbf, shp_name = (
        ("住户.zip/住户/住户.dbf", "住户.zip/住户/住户.shp")
        if zip_it
        else (
            "住户.dbf",
            "住户.shp",
        )
    )
    assert names_both_counts(str(refused.value), dbf, rows, shp_name, 3), refused.value
    assert Household.objects.count() == before


def test_household_shapefile_that_agrees_is_still_imported(tree, tmp_path):
    shp = write_shapefile(household_points(tree, 3), tmp_path / "hh" / "住户.shp")
    before = Household.objects.count()
    out, _ = run("import_households", zipped(shp), "--commit")
    assert "3 written" in out
    assert Household.objects.count() == before + 3


# ---------------------------------------------------------------------------- boundaries


def streets(rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4490",
    )


@pytest.mark.parametrize("zip_it", [False, True])
def test_boundary_shapefile_with_fewer_dbf_rows_is_refused(district, tmp_path, zip_it):  # noqa: F811
    rows = layout()["street"]
    shp = write_shapefile(streets(rows), tmp_path / "st" / "streets.shp")
    with_dbf_of(shp, streets(rows[:1]))
    path = zipped(shp) if zip_it else shp
    with pytest.raises(CommandError) as refused:
        run("import_boundaries", path, "--level", "street", "--commit")
    prefix = "streets.zip/" if zip_it else ""
    message = str(refused.value)
    assert names_both_counts(message, f"{prefix}streets.dbf", 1, f"{prefix}streets.shp", 2)
    assert Region.objects.count() == 1  # the district alone


def _missing_shx(shp: Path) -> str:
    shp.with_suffix(".shx").unlink()
    return "streets.shx"


def _missing_dbf(shp: Path) -> str:
    shp.with_suffix(".dbf").unlink()
    return "streets.dbf"


def _shp_cut_short(shp: Path) -> str:
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) - 40])
    return "1 of the 2"


def _dbf_cut_short(shp: Path) -> str:
    dbf = shp.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data[: len(data) - 20])
    return "1 of the 2"


@pytest.mark.parametrize("damage", [_missing_shx, _missing_dbf, _shp_cut_short, _dbf_cut_short])
@pytest.mark.parametrize("zip_it", [False, True])
def test_boundary_shapefile_missing_or_cut_short_is_refused(district, tmp_path, damage, zip_it):  # noqa: F811
    shp = write_shapefile(streets(layout()["street"]), tmp_path / "st" / "streets.shp")
    words = damage(shp)
    path = zipped(shp) if zip_it else shp
    with pytest.raises(CommandError) as refused:
        run("import_boundaries", path, "--level", "street", "--commit")
    message = str(refused.value)
    prefix = "streets.zip/" if zip_it else ""
    assert f"{prefix}streets.shp" in message or f"{prefix}streets.dbf" in message, message
    if words.startswith("1 of"):
        assert re.search(r"\b1\D+2\b", message), message
    else:
        assert words in message, message
    assert Region.objects.count() == 1


# ------------------------------------------------------------------------------ layouts


def grid_layout(n: int) -> gpd.GeoDataFrame:
    """The two grids of community C11 as a new layout (the first n of them)."""
    full = gpd.GeoDataFrame(
        {"code": [f"{C11}001", f"{C11}002"], "name": ["西网格", "东网格"]},
        geometry=[box(105.90, 29.30, 105.925, 29.35), box(105.925, 29.30, 105.95, 29.35)],
        crs="EPSG:4326",
    )
    return full.iloc[:n]


def post_layout(api, user, region, path):
    with path.open("rb") as handle:
        return api(user).post(
            "/api/boundaries/changesets/import/",
            {"region": region.code, "title": "重划", "file": handle},
            format="multipart",
        )


@pytest.mark.parametrize(("rows", "folder"), [(1, ""), (1, "网格/"), (3, "")])
def test_layout_whose_dbf_disagrees_is_a_400_and_retires_nothing(
    tree, users, api, tmp_path, rows, folder
):
    shp = write_shapefile(grid_layout(2), tmp_path / "layout" / "layout.shp")
    other = grid_layout(2)
    if rows > 2:
        other = gpd.GeoDataFrame(
            other.iloc[[0, 1, 1]].reset_index(drop=True), geometry="geometry", crs="EPSG:4326"
        )
    else:
        other = other.iloc[:rows]
    with_dbf_of(shp, other)
    archive = zipped(shp, folder)
    answer = post_layout(api, users.community, tree.communities[(1, 1)], archive)
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["code"] == "shape_count_mismatch"
    prefix = f"layout.zip/{folder}"
    assert names_both_counts(
        error["message"], f"{prefix}layout.dbf", rows, f"{prefix}layout.shp", 2
    ), error["message"]
    assert not ChangeSet.objects.exists()


def test_layout_shapefile_without_index_is_a_400_naming_it(tree, users, api, tmp_path):
    shp = write_shapefile(grid_layout(2), tmp_path / "layout" / "layout.shp")
    shp.with_suffix(".shx").unlink()
    answer = post_layout(api, users.community, tree.communities[(1, 1)], zipped(shp))
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert "layout.zip/layout.shp" in error["message"] and ".shx" in error["message"]
    assert not ChangeSet.objects.exists()


def test_layout_command_refuses_a_dbf_that_disagrees(tree, users, tmp_path):
    shp = write_shapefile(grid_layout(2), tmp_path / "layout" / "layout.shp")
    with_dbf_of(shp, grid_layout(1))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_grid_layout",
            str(zipped(shp)),
            region=tree.communities[(1, 1)].code,
            user=users.community.username,
            stderr=err,
        )
    assert names_both_counts(err.getvalue(), "layout.zip/layout.dbf", 1, "layout.zip/layout.shp", 2)
    assert not ChangeSet.objects.exists()
