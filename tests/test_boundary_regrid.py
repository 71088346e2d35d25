"""Whole re-gridding from a file (issue #7, part 7): a new grid layout for a community or a
street becomes one FILE change set; bad features refuse the whole file."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import Point, Polygon, box

from boundaries.models import ChangeSet, ChangeSetItem, Kind, Status
from boundaries.services.editing import default_name
from boundaries.services.regrid import import_layout
from grids.models import Grid, GridBoundary
from grids.problems import ProblemsError
from grids.services import crs as crs_service
from grids.services.boundaries import to_shapely


@pytest.fixture(autouse=True)
def english():
    """These tests check the English wording of the messages (run with --language en); the
    Chinese the commands and the API speak by default is tested in test_import_words.py."""
    with translation.override("en"):
        yield


C11 = "500118001001"
WEST, EAST = f"{C11}001", f"{C11}002"
X0, Y0, X1, Y1 = 105.90, 29.30, 105.95, 29.35


def strips(n: int, x0: float = X0, x1: float = X1, y0: float = Y0, y1: float = Y1):
    """n vertical strips of equal width covering the box."""
    xs = np.linspace(x0, x1, n + 1)
    return [box(xs[i], y0, xs[i + 1], y1) for i in range(n)]


def five_grids() -> dict:
    """Community (1, 1) in five strips: the two existing codes, then three new ones."""
    return {f"{C11}{i + 1:03d}": geom for i, geom in enumerate(strips(5))}


def write(tmp_path, layout: dict, name="layout.gpkg", crs="EPSG:4326", names=None, **columns):
    """Write {code: geometry} as a file with columns code and name (or those given)."""
    codes = list(layout)
    frame = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": names if names is not None else [f"新网格{c[-3:]}" for c in codes],
            **columns,
        },
        geometry=list(layout.values()),
        crs=crs,
    )
    path = tmp_path / name
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".shp": "ESRI Shapefile"}[path.suffix]
    frame.to_file(path, driver=driver)
    return path


def close(a, b) -> bool:
    """The same boundary up to the editor's precision grid (about 1 mm)."""
    return shapely.hausdorff_distance(a, b) < 2e-8


def items_of(change_set: ChangeSet) -> dict[str, ChangeSetItem]:
    return {item.code: item for item in change_set.items.all()}


def refused(**kwargs) -> list:
    with pytest.raises(ProblemsError) as caught:
        import_layout(**kwargs)
    return caught.value.problems


def test_geopackage_regrids_a_community_from_two_grids_to_five(tree, users, tmp_path):
    layout = five_grids()
    path = write(tmp_path, layout)
    before = GridBoundary.objects.count()

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="五格重划"
    )

    assert change_set.kind == Kind.FILE
    assert change_set.status == Status.DRAFT
    assert change_set.author == users.community
    items = items_of(change_set)
    assert sorted(items) == sorted(layout)
    assert {code: item.action for code, item in items.items()} == {
        WEST: "reshape",
        EAST: "reshape",
        f"{C11}003": "new",
        f"{C11}004": "new",
        f"{C11}005": "new",
    }
    for code, item in items.items():
        assert close(to_shapely(item.geom), layout[code])
        assert item.community == tree.communities[(1, 1)]
        assert item.name == f"新网格{code[-3:]}"
    assert items[WEST].base_version == tree.grids[(1, 1, 1)].version
    # A draft: the grids themselves are untouched until the change set is applied.
    assert GridBoundary.objects.count() == before
    assert Grid.objects.filter(code__startswith=C11).count() == 2
    assert change_set.events.filter(action="imported").exists()


def test_geojson_in_gcj02_is_converted_to_wgs84(tree, users, tmp_path):
    layout = five_grids()

    def to_gcj(geom):
        return shapely.transform(
            geom, lambda xy: np.column_stack(crs_service.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        )

    path = write(tmp_path, {c: to_gcj(g) for c, g in layout.items()}, name="layout.geojson")

    change_set = import_layout(
        user=users.community,
        region=tree.communities[(1, 1)],
        path=path,
        title="高德底图上画的",
        crs="GCJ-02",
    )

    items = items_of(change_set)
    assert len(items) == 5
    for code, geom in layout.items():
        # Back on the WGS84 boundaries within a millimetre (GCJ-02 is hundreds of metres off).
        assert close(to_shapely(items[code].geom), geom)


def test_geojson_in_cgcs2000(tree, users, tmp_path):
    path = write(tmp_path, five_grids(), name="layout.geojson", crs="EPSG:4490")

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="CGCS2000"
    )

    assert change_set.items.count() == 5


def test_missing_grid_is_retired_and_unchanged_grid_has_no_item(tree, users, tmp_path):
    west = box(X0, Y0, (X0 + X1) / 2, Y1)  # as it is today
    east_part, new_part = strips(2, (X0 + X1) / 2, X1)
    # The east grid is left out of the file: its ground goes to two new grids.
    path = write(
        tmp_path,
        {WEST: west, f"{C11}003": east_part, f"{C11}004": new_part},
        names=["网格111", "东一", "东二"],
    )

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="东格拆分"
    )

    items = items_of(change_set)
    assert WEST not in items
    assert items[EAST].action == "retire"
    assert items[EAST].geom is None
    assert items[EAST].grid == tree.grids[(1, 1, 2)]
    assert items[EAST].base_version == tree.grids[(1, 1, 2)].version
    assert {items[f"{C11}003"].action, items[f"{C11}004"].action} == {"new"}


def test_a_rename_alone_is_an_item(tree, users, tmp_path):
    halves = strips(2)
    path = write(tmp_path, {WEST: halves[0], EAST: halves[1]}, names=["改名了", "网格112"])

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="改名"
    )

    items = items_of(change_set)
    assert list(items) == [WEST]
    assert items[WEST].name == "改名了"


def test_missing_names_keep_the_grids_or_get_a_default(tree, users, tmp_path):
    halves = strips(3)
    path = write(
        tmp_path, {WEST: halves[0], EAST: halves[1], f"{C11}003": halves[2]}, names=["", "", ""]
    )

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="无名称"
    )

    items = items_of(change_set)
    assert items[WEST].name == tree.grids[(1, 1, 1)].name
    assert items[f"{C11}003"].name == default_name(tree.communities[(1, 1)], f"{C11}003")


def test_street_regrid_spans_its_communities(tree, users, tmp_path):
    layout = {}
    for c, (y0, y1) in enumerate([(29.30, 29.35), (29.35, 29.40)], 1):
        for i, geom in enumerate(strips(3, y0=y0, y1=y1)):
            layout[f"500118001{c:03d}{i + 1:03d}"] = geom
    path = write(tmp_path, layout)

    change_set = import_layout(
        user=users.street, region=tree.streets[1], path=path, title="街道重划"
    )

    items = items_of(change_set)
    assert len(items) == 6
    assert items["500118001002003"].community == tree.communities[(1, 2)]
    assert items["500118001002001"].action == "reshape"


def test_every_bad_feature_is_named_and_nothing_is_written(tree, users, tmp_path):
    bowtie = Polygon([(105.90, 29.30), (105.95, 29.35), (105.95, 29.30), (105.90, 29.35)])
    layout = {
        WEST: bowtie,  # row 1: self-intersecting
        EAST: Point(105.93, 29.32),  # row 2: not a polygon
        "12345": box(105.90, 29.30, 105.91, 29.31),  # row 3: not 15 digits
        "500118002001009": box(105.96, 29.30, 105.97, 29.31),  # row 4: another street's
    }
    frame = gpd.GeoDataFrame(
        {"code": [*layout, f"{C11}003", f"{C11}003"], "name": ["a", "b", "c", "d", "e", "f"]},
        geometry=[
            *layout.values(),
            box(105.90, 29.30, 105.91, 29.31),
            box(105.91, 29.30, 105.92, 29.31),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.gpkg"
    frame.to_file(path, driver="GPKG")

    kwargs = {"user": users.community, "region": tree.communities[(1, 1)], "title": "坏文件"}
    problems = refused(path=path, **kwargs)

    assert ChangeSet.objects.count() == 0
    assert ChangeSetItem.objects.count() == 0
    assert {(p.row, p.code, p.field, p.feature) for p in problems} == {
        (1, "invalid_geometry", "geometry", WEST),
        (2, "not_polygon", "geometry", EAST),
        (3, "bad_code", "code", "12345"),
        (4, "code_not_under_parent", "code", "500118002001009"),
        (6, "duplicate_code", "code", f"{C11}003"),
    }
    assert [p.row for p in problems] == sorted(p.row for p in problems)


def test_invalid_geometry_names_where(tree, users, tmp_path):
    bowtie = Polygon([(105.90, 29.30), (105.95, 29.35), (105.95, 29.30), (105.90, 29.35)])
    path = write(tmp_path, {WEST: bowtie})
    (problem,) = refused(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="x"
    )
    assert problem.feature == WEST
    assert problem.location == pytest.approx((105.925, 29.325))


def test_a_code_is_never_reused(tree, users, tmp_path):
    # A grid of another theme holds the code: a retired grid would hold it the same way.
    Grid.objects.filter(pk=tree.grids[(1, 1, 2)].pk).update(code=f"{C11}009", theme="safety")
    path = write(tmp_path, {WEST: box(X0, Y0, 105.92, Y1), f"{C11}009": box(105.92, Y0, X1, Y1)})
    problems = refused(user=users.community, region=tree.communities[(1, 1)], path=path, title="x")
    assert [(p.code, p.row, p.feature) for p in problems] == [("duplicate_code", 2, f"{C11}009")]


def test_missing_code_column_and_empty_file_and_unknown_crs(tree, users, tmp_path):
    kwargs = {"user": users.community, "region": tree.communities[(1, 1)], "title": "x"}
    path = write(tmp_path, five_grids(), wgbm=list(five_grids()))
    (problem,) = refused(path=path, code_field="bm", **kwargs)
    assert (problem.code, problem.field) == ("missing_field", "bm")

    # The foundation's guesses find a column named 网格编码-style aliases (here wgbm).
    frame = gpd.read_file(path).drop(columns=["code"])
    frame.to_file(path, driver="GPKG")
    assert import_layout(path=path, **kwargs).items.count() == 5

    empty = write(tmp_path, {}, name="empty.gpkg")
    assert [p.code for p in refused(path=empty, **kwargs)] == ["empty_file"]
    assert [p.code for p in refused(path=path, crs="EPSG:999999", **kwargs)] == ["unknown_crs"]
    assert [p.code for p in refused(path=tmp_path / "nope.gpkg", **kwargs)] == ["unreadable"]


# The file is written without a CRS on purpose: a projected layout with no .prj.
@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_projected_file_read_as_degrees_is_refused_per_feature(tree, users, tmp_path):
    path = write(tmp_path, {WEST: box(400000, 3240000, 401000, 3241000)}, crs=None)
    (problem,) = refused(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="x"
    )
    assert (problem.code, problem.row) == ("wrong_crs", 1)


def test_only_authors_may_import(tree, users, tmp_path):
    path = write(tmp_path, five_grids())
    with pytest.raises(ProblemsError) as caught:
        import_layout(
            user=users.other_worker, region=tree.communities[(1, 1)], path=path, title="x"
        )
    assert caught.value.status_code == 403
    assert ChangeSet.objects.count() == 0


def test_a_grid_held_by_another_change_set_is_a_conflict(tree, users, tmp_path):
    path = write(tmp_path, five_grids())
    import_layout(user=users.community, region=tree.communities[(1, 1)], path=path, title="a")
    with pytest.raises(ProblemsError) as caught:
        import_layout(user=users.street, region=tree.communities[(1, 1)], path=path, title="b")
    assert caught.value.status_code == 409
    assert {p.code for p in caught.value.problems} == {"conflict"}
    assert ChangeSet.objects.count() == 1


def test_command_prints_the_change_set_and_its_validation(tree, users, tmp_path):
    path = write(tmp_path, five_grids(), name="layout.geojson")
    out = io.StringIO()

    call_command(
        "import_grid_layout",
        str(path),
        "--region",
        C11,
        "--user",
        "community",
        "--title",
        "五格",
        stdout=out,
        stderr=io.StringIO(),
    )

    change_set = ChangeSet.objects.get()
    assert change_set.title == "五格"
    assert f"change set {change_set.pk}: 2 reshaped, 3 new, 0 retired" in out.getvalue()
    assert "validation: 0 errors" in out.getvalue()


def test_command_refuses_a_bad_file(tree, users, tmp_path):
    path = write(tmp_path, {"123": box(X0, Y0, X1, Y1)})
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "import_grid_layout", str(path), "--region", C11, "--user", "community", stderr=err
        )
    assert "bad_code" in err.getvalue()
    with pytest.raises(CommandError, match="no current region"):
        call_command("import_grid_layout", str(path), "--region", "1", "--user", "community")


def test_overlaps_and_gaps_are_left_to_the_validation(tree, users, tmp_path):
    from boundaries.services import validation

    # The west grid reaches into the east one, and the east one leaves its east edge bare.
    path = write(tmp_path, {WEST: box(X0, Y0, 105.93, Y1), EAST: box(105.92, Y0, 105.945, Y1)})

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="有重叠"
    )

    codes = {p.code for p in validation.validate(change_set) if p.severity == "error"}
    assert {"overlap", "gap"} <= codes


def test_shapefile_with_gbk_names_and_no_cpg(tree, users, tmp_path):
    halves = strips(2)
    frame = gpd.GeoDataFrame(
        {"code": [WEST, EAST], "name": ["西区网格", "东区网格"]}, geometry=halves, crs="EPSG:4326"
    )
    path = tmp_path / "layout.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)

    change_set = import_layout(
        user=users.community, region=tree.communities[(1, 1)], path=path, title="GBK"
    )

    assert {item.name for item in change_set.items.all()} == {"西区网格", "东区网格"}
