"""Exports to GeoPackage, GeoJSON and zipped Shapefile: they read back as written, are scoped
to the user, and an exported household file imports again without duplicates."""

from __future__ import annotations

import datetime as dt
import zipfile
from io import StringIO
from pathlib import Path

import pyogrio
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import box

from grids.models import AuditLog, Grid, Household, Theme
from grids.services import boundaries, households
from grids.services.exports import UnknownLayer, export_layer
from grids.services.imports import import_households
from tests.conftest import VALID_FROM, centre_of

FORMATS = ["gpkg", "geojson", "shp"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The `users` fixture hashes seven passwords; the default PBKDF2 takes seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def read_export(export, tmp_path: Path):
    """The exported file read back with pyogrio (a zipped shapefile unzipped first)."""
    target = tmp_path / export.filename
    target.write_bytes(export.content)
    if export.filename.endswith(".zip"):
        folder = tmp_path / "unzipped"
        with zipfile.ZipFile(target) as archive:
            archive.extractall(folder)
        (target,) = folder.glob("*.shp")
    return pyogrio.read_dataframe(target), target


def wkb(geom) -> shapely.Geometry:
    return shapely.from_wkb(bytes(geom.wkb))


def assert_geometry_equal(got, want) -> None:
    assert shapely.hausdorff_distance(got, want) < 1e-7
    assert abs(got.area - want.area) < 1e-12


@pytest.fixture
def irregular(tree):
    """A forest-fire grid with many vertices at full precision, to test coordinates."""
    community = tree.communities[(1, 1)]
    circle = shapely.Point(105.9123456789, 29.3234567891).buffer(0.0071234567, quad_segs=16)
    return boundaries.create_grid(
        code=f"{community.code}101",
        name="金龙山防火网格",
        community=community,
        geom=shapely.intersection(circle, wkb(community.boundary_on())),
        theme=Theme.FOREST_FIRE,
        valid_from=VALID_FROM,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_grids_round_trip(tree, users, homes, irregular, tmp_path, fmt):
    export = export_layer(users.admin, "grids", fmt)
    assert export.features == 9
    frame, path = read_export(export, tmp_path)
    if fmt == "shp":
        assert path.with_suffix(".cpg").exists()
    assert len(frame) == 9
    by_code = {row.code: row for row in frame.itertuples()}
    grids = {g.code: g for g in Grid.objects.all()}
    assert set(by_code) == set(grids)
    for code, grid in grids.items():
        row = by_code[code]
        assert row.name == grid.name
        assert row.community == grid.community.code
        assert row.theme == grid.theme
        assert_geometry_equal(row.geometry, wkb(grid.boundary_on()))
        assert int(row.households) == (1 if grid.theme == Theme.GOVERNANCE else 0)
    assert by_code[irregular.code].name == "金龙山防火网格"
    assert frame.crs.to_epsg() == 4326


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", ["districts", "streets", "communities"])
def test_regions_round_trip(tree, users, tmp_path, fmt, layer):
    export = export_layer(users.admin, layer, fmt)
    frame, _ = read_export(export, tmp_path)
    regions = {
        "districts": [tree.district],
        "streets": list(tree.streets.values()),
        "communities": list(tree.communities.values()),
    }[layer]
    assert sorted(frame["code"]) == sorted(r.code for r in regions)
    for region in regions:
        row = frame[frame["code"] == region.code].iloc[0]
        assert row["name"] == region.name
        assert (row["parent"] or None) == (region.parent.code if region.parent else None)
        assert_geometry_equal(row.geometry, wkb(region.boundary_on()))


@pytest.mark.parametrize("fmt", FORMATS)
def test_households_round_trip(tree, users, tmp_path, fmt):
    made = [
        households.create_household(
            address=f"重庆市永川区人民大道{n}号",
            location=Point(105.9 + n * 0.0123456789, 29.3 + n * 0.0087654321, srid=4326),
            client_key=f"APP-{n}",
        )[0]
        for n in range(1, 8)
    ]
    export = export_layer(users.admin, "households", fmt)
    frame, _ = read_export(export, tmp_path)
    assert sorted(frame["id"].astype(int)) == [h.pk for h in made]
    for household in made:
        row = frame[frame["id"].astype(int) == household.pk].iloc[0]
        assert row["address"] == household.address
        assert row["key"] == household.client_key
        assert row["grid"] == household.grid.code
        assert row.geometry.distance(wkb(household.location)) < 1e-7


def test_export_on_an_earlier_date_has_the_boundaries_valid_then(tree, users, tmp_path):
    grid = tree.grids[(1, 1, 1)]
    old = wkb(grid.boundary_on())
    x0, y0, x1, y1 = old.bounds
    boundaries.change_boundary(grid, box(x0, y0, x1 - 0.005, y1), valid_from=dt.date(2025, 7, 1))
    then, _ = read_export(
        export_layer(users.admin, "grids", "gpkg", on=dt.date(2025, 1, 1)), tmp_path
    )
    row = then[then["code"] == grid.code].iloc[0]
    assert_geometry_equal(row.geometry, old)
    assert row["valid_from"] == str(VALID_FROM)
    now_dir = tmp_path / "now"
    now_dir.mkdir()
    now, _ = read_export(export_layer(users.admin, "grids", "gpkg"), now_dir)
    row = now[now["code"] == grid.code].iloc[0]
    assert row.geometry.bounds[2] == pytest.approx(x1 - 0.005)


# ------------------------------------------------------------------------------ scope


def test_households_export_is_scoped_to_the_user(tree, users, homes, tmp_path):
    stray, _ = households.create_household(address="网格外", location=Point(106.01, 29.35))

    def exported(user) -> set[int]:
        folder = tmp_path / user.username
        folder.mkdir()
        frame, _ = read_export(export_layer(user, "households", "gpkg"), folder)
        return set(frame["id"].astype(int)) if len(frame) else set()

    assert exported(users.worker) == {homes[(1, 1, 1)].pk}
    assert exported(users.other_worker) == {homes[(2, 2, 2)].pk}
    assert exported(users.community) == {homes[(1, 1, 1)].pk, homes[(1, 1, 2)].pk}
    assert exported(users.street) == {homes[key].pk for key in homes if key[0] == 1}
    assert exported(users.district) == {h.pk for h in homes.values()} | {stray.pk}
    assert exported(users.department) == set()
    assert exported(users.admin) == {h.pk for h in homes.values()} | {stray.pk}


def test_grids_export_is_scoped_to_the_user(tree, users, tmp_path):
    frame, _ = read_export(export_layer(users.worker, "grids", "geojson"), tmp_path)
    assert list(frame["code"]) == [tree.grids[(1, 1, 1)].code]


def test_every_export_is_audited(tree, users):
    export_layer(users.worker, "households", "geojson")
    entry = AuditLog.objects.get()
    assert entry.user == users.worker
    assert entry.action == AuditLog.Action.EXPORT
    assert entry.model == "households"


def test_unknown_layer_or_format(tree, users):
    with pytest.raises(UnknownLayer):
        export_layer(users.admin, "roads", "gpkg")
    with pytest.raises(UnknownLayer):
        export_layer(users.admin, "grids", "dxf")


# -------------------------------------------------------------------- re-import


@pytest.mark.parametrize("fmt", FORMATS)
def test_reimporting_exported_keyed_households_writes_nothing(tree, users, tmp_path, fmt):
    for n, grid in enumerate(tree.grids.values()):
        households.create_household(
            address=f"重庆市永川区兴龙大道{n}号", location=centre_of(grid), client_key=f"K{n:03d}"
        )
    _, path = read_export(export_layer(users.admin, "households", fmt), tmp_path)
    report = import_households(path, commit=True)
    assert report.errors == []
    assert (report.total, report.written, report.skipped_existing) == (8, 0, 8)
    assert Household.objects.count() == 8


def test_reimporting_exported_households_writes_nothing(tree, users, homes, tmp_path):
    """Households written without a client key (the single path's default, as in `homes`)
    are exported too; importing that export again must not duplicate them."""
    households.create_household(
        address="有键户", location=centre_of(tree.grids[(1, 1, 1)]), client_key="K-1"
    )
    before = Household.objects.count()
    _, path = read_export(export_layer(users.admin, "households", "gpkg"), tmp_path)
    report = import_households(path, commit=True)
    assert report.errors == []
    assert report.written == 0
    assert report.skipped_existing == before
    assert Household.objects.count() == before


# ------------------------------------------------------------------------- command


def test_export_layer_command_writes_a_file(tree, users, homes, tmp_path):
    target = tmp_path / "grids.geojson"
    out = StringIO()
    call_command(
        "export_layer",
        "grids",
        "--format",
        "geojson",
        "--user",
        "admin",
        "-o",
        str(target),
        stdout=out,
    )
    assert "8 features written" in out.getvalue()
    frame = pyogrio.read_dataframe(target)
    assert sorted(frame["code"]) == sorted(g.code for g in tree.grids.values())


def test_export_layer_command_scopes_and_zips(tree, users, homes, tmp_path):
    target = tmp_path / "mine.zip"
    call_command(
        "export_layer",
        "households",
        "--format",
        "shp",
        "--user",
        "worker",
        "-o",
        str(target),
        stdout=StringIO(),
    )
    with zipfile.ZipFile(target) as archive:
        assert {Path(n).suffix for n in archive.namelist()} >= {".shp", ".dbf", ".shx", ".prj"}
        archive.extractall(tmp_path / "x")
    (shp,) = (tmp_path / "x").glob("*.shp")
    frame = pyogrio.read_dataframe(shp)
    assert list(frame["address"]) == [homes[(1, 1, 1)].address]


def test_export_layer_command_unknown_user(tree):
    with pytest.raises(CommandError, match="no user"):
        call_command("export_layer", "grids", "--user", "nobody", stdout=StringIO())
