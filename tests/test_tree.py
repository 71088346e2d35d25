"""The tree's integrity rules, enforced by grids.services.boundaries on every write."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import shapely
from django.conf import settings
from django.contrib.gis.geos import Point as GEOSPoint
from django.contrib.gis.geos import Polygon as GEOSPolygon
from shapely.geometry import LineString, Point, Polygon, box

from grids.models import Grid, GridBoundary, Level, Region, RegionBoundary, Theme
from grids.problems import ProblemsError
from grids.services import boundaries
from tests.conftest import VALID_FROM

# A second, empty district east of the fixture tree: one street, one community, no grids.
BX0, BY0, BX1, BY1 = 106.10, 29.30, 106.20, 29.40
# Well under the 0.5 m tolerances at this latitude (~0.2 m), and well over them (~10 m).
SLIVER = 0.000002
CLEAR = 0.0001


def geos_point(x: float, y: float) -> GEOSPoint:
    return GEOSPoint(x, y, srid=4326)


def counts() -> tuple[int, int, int, int]:
    return (
        Region.objects.count(),
        RegionBoundary.objects.count(),
        Grid.objects.count(),
        GridBoundary.objects.count(),
    )


def codes_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [problem.code for problem in exc.value.problems]


@pytest.fixture
def blank(db):
    outline = box(BX0, BY0, BX1, BY1)
    district = boundaries.create_region(
        level=Level.DISTRICT, code="500119", name="荣昌区", geom=outline, valid_from=VALID_FROM
    )
    street = boundaries.create_region(
        level=Level.STREET,
        code="500119001",
        name="昌元街道",
        geom=outline,
        parent=district,
        valid_from=VALID_FROM,
    )
    community = boundaries.create_region(
        level=Level.COMMUNITY,
        code="500119001001",
        name="玉屏社区",
        geom=outline,
        parent=street,
        valid_from=VALID_FROM,
    )
    return SimpleNamespace(district=district, street=street, community=community)


def grid_in(community, number: int, geom, **kwargs) -> Grid:
    return boundaries.create_grid(
        code=f"{community.code}{number:03d}",
        name=f"网格{number}",
        community=community,
        geom=geom,
        valid_from=VALID_FROM,
        **kwargs,
    )


def test_tolerances_are_half_a_metre():
    assert settings.GRIDLINE_CONTAINMENT_TOLERANCE_M == 0.5
    assert settings.GRIDLINE_OVERLAP_TOLERANCE_M == 0.5


# ------------------------------------------------------------------------- containment


def test_grid_outside_its_community_is_rejected_with_a_location(blank):
    before = counts()
    geom = box(BX1 - 0.02, BY0, BX1 + 0.001, BY0 + 0.02)
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 1, geom)
    assert codes_of(exc) == ["outside_parent"]
    problem = exc.value.problems[0]
    assert problem.feature == "500119001001001"
    assert problem.field == "geometry"
    assert problem.location is not None
    x, y = problem.location
    # The location points at the part that sticks out.
    assert x > BX1
    assert BY0 <= y <= BY0 + 0.02
    assert counts() == before


def test_grid_sticking_out_by_less_than_the_tolerance_is_accepted(blank):
    grid = grid_in(blank.community, 1, box(BX1 - 0.02, BY0 - SLIVER, BX1 + SLIVER, BY0 + 0.02))
    assert grid.boundary_on(VALID_FROM).extent[2] == pytest.approx(BX1 + SLIVER, abs=1e-9)


@pytest.mark.parametrize(("overhang", "accepted"), [(SLIVER, True), (CLEAR, False)])
def test_street_outside_its_district(db, overhang, accepted):
    district = boundaries.create_region(
        level=Level.DISTRICT,
        code="500120",
        name="大足区",
        geom=box(106.30, 29.30, 106.40, 29.40),
        valid_from=VALID_FROM,
    )
    before = counts()

    def create():
        return boundaries.create_region(
            level=Level.STREET,
            code="500120001",
            name="龙岗街道",
            geom=box(106.30 - overhang, 29.30, 106.35, 29.40),
            parent=district,
            valid_from=VALID_FROM,
        )

    if accepted:
        street = create()
        assert street.parent == district
        assert counts() == (before[0] + 1, before[1] + 1, before[2], before[3])
    else:
        with pytest.raises(ProblemsError) as exc:
            create()
        assert codes_of(exc) == ["outside_parent"]
        assert exc.value.problems[0].location[0] < 106.30
        assert counts() == before


def test_community_outside_its_street_in_the_tree(tree):
    """A new community of street 001 reaching into street 002 is outside its parent
    (and, being inside street 001's area elsewhere, overlaps its siblings)."""
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_region(
            level=Level.COMMUNITY,
            code="500118001003",
            name="越界社区",
            geom=box(105.96, 29.31, 105.97, 29.32),
            parent=tree.streets[1],
            valid_from=VALID_FROM,
        )
    assert "outside_parent" in codes_of(exc)
    assert counts() == before


# ----------------------------------------------------------------------------- overlap


def test_overlapping_sibling_grids_are_rejected(blank):
    grid_in(blank.community, 1, box(BX0, BY0, 106.15, BY1))
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 2, box(106.149, BY0, BX1, BY1))
    assert codes_of(exc) == ["overlap"]
    problem = exc.value.problems[0]
    assert problem.feature == "500119001001002"
    assert "500119001001001" in problem.message
    x, y = problem.location
    assert 106.149 <= x <= 106.15
    assert BY0 <= y <= BY1
    assert counts() == before


def test_new_governance_grid_over_an_existing_one_in_the_tree_is_rejected(tree):
    community = tree.communities[(1, 1)]
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        grid_in(community, 3, box(105.91, 29.31, 105.92, 29.32))
    assert codes_of(exc) == ["overlap"]
    assert counts() == before


def test_touching_neighbour_is_accepted(blank):
    grid_in(blank.community, 1, box(BX0, BY0, 106.15, BY1))
    grid_in(blank.community, 2, box(106.15, BY0, BX1, BY1))
    assert Grid.objects.filter(community=blank.community).count() == 2


def test_overlap_under_the_tolerance_is_accepted(blank):
    grid_in(blank.community, 1, box(BX0, BY0, 106.15, BY1))
    grid_in(blank.community, 2, box(106.15 - SLIVER, BY0, BX1, BY1))
    assert Grid.objects.filter(community=blank.community).count() == 2


def test_overlap_just_over_the_tolerance_is_rejected(blank):
    """~2 m of overlap: a few times the tolerance, still refused."""
    grid_in(blank.community, 1, box(BX0, BY0, 106.15, BY1))
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 2, box(106.15 - 0.00002, BY0, BX1, BY1))
    assert codes_of(exc) == ["overlap"]


def test_grids_of_another_theme_may_overlay_governance_grids(tree):
    community = tree.communities[(1, 1)]
    forest = grid_in(community, 101, community.boundary_on(), theme=Theme.FOREST_FIRE)
    assert forest.theme == Theme.FOREST_FIRE
    # Households stay in their governance grid.
    assert Grid.objects.containing(geos_point(105.91, 29.31)).first() == tree.grids[(1, 1, 1)]
    assert list(Grid.objects.containing(geos_point(105.91, 29.31), theme=Theme.FOREST_FIRE)) == [
        forest
    ]


def test_grids_of_one_theme_other_than_governance_may_not_overlap_each_other(tree):
    community = tree.communities[(1, 1)]
    grid_in(community, 101, box(105.90, 29.30, 105.93, 29.35), theme=Theme.FOREST_FIRE)
    with pytest.raises(ProblemsError) as exc:
        grid_in(community, 102, box(105.92, 29.30, 105.95, 29.35), theme=Theme.FOREST_FIRE)
    assert codes_of(exc) == ["overlap"]


# ------------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("50011900100101", "bad_code"),  # 14 digits
        ("5001190010010011", "bad_code"),  # 16 digits
        ("50011900100100A", "bad_code"),
        ("", "bad_code"),
        ("500118001001009", "code_not_under_parent"),  # another district's community
    ],
)
def test_bad_grid_code_is_rejected(blank, code, problem):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_grid(
            code=code, name="网格", community=blank.community, geom=box(BX0, BY0, 106.15, BY1)
        )
    assert codes_of(exc) == [problem]
    assert exc.value.problems[0].field == "code"
    assert counts() == before


@pytest.mark.parametrize(
    ("level", "code", "parent", "problem"),
    [
        (Level.DISTRICT, "5001", None, "bad_code"),
        (Level.DISTRICT, "500119001", None, "bad_code"),
        (Level.STREET, "50011900", "district", "bad_code"),
        (Level.STREET, "500118002", "district", "code_not_under_parent"),
        (Level.COMMUNITY, "500119001", "street", "bad_code"),
        (Level.COMMUNITY, "500119002001", "street", "code_not_under_parent"),
    ],
)
def test_bad_region_code_is_rejected(blank, level, code, parent, problem):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_region(
            level=level,
            code=code,
            name="某地",
            geom=box(106.5, 29.5, 106.6, 29.6),
            parent=getattr(blank, parent) if parent else None,
        )
    assert problem in codes_of(exc)
    assert counts() == before


def test_duplicate_codes_are_rejected(tree):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_grid(
            code=tree.grids[(1, 1, 1)].code,
            name="重复",
            community=tree.communities[(1, 1)],
            geom=box(105.90, 29.30, 105.91, 29.31),
            theme=Theme.FOREST_FIRE,
        )
    assert codes_of(exc) == ["duplicate_code"]
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_region(
            level=Level.STREET,
            code=tree.streets[1].code,
            name="重复",
            geom=box(105.90, 29.30, 105.95, 29.40),
            parent=tree.district,
        )
    assert codes_of(exc) == ["duplicate_code"]
    assert counts() == before


def test_wrong_parent_level_is_rejected(tree):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_grid(
            code="500118001001009",
            name="网格",
            community=tree.streets[1],
            geom=box(105.90, 29.30, 105.91, 29.31),
        )
    assert "bad_parent" in codes_of(exc)
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_region(
            level=Level.STREET, code="500118009", name="无上级", geom=box(105.9, 29.3, 106, 29.4)
        )
    assert "bad_parent" in codes_of(exc)
    assert counts() == before


# ---------------------------------------------------------------------------- geometry

BOW_TIE = Polygon([(106.12, 29.32), (106.16, 29.36), (106.16, 29.32), (106.12, 29.36)])


def test_self_intersecting_polygon_is_rejected_with_its_location(blank):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 1, BOW_TIE)
    assert codes_of(exc) == ["invalid_geometry"]
    problem = exc.value.problems[0]
    assert problem.field == "geometry"
    assert problem.location == pytest.approx((106.14, 29.34), abs=1e-9)
    assert counts() == before


def test_self_intersecting_polygon_is_accepted_with_repair(blank):
    grid = grid_in(blank.community, 1, BOW_TIE, repair=True)
    stored = shapely.from_wkb(bytes(grid.boundary_on().wkb))
    assert stored.is_valid
    assert stored.geom_type == "MultiPolygon"
    assert len(stored.geoms) == 2
    assert stored.area == pytest.approx(0.04 * 0.04 / 2, rel=1e-9)


def test_self_intersecting_region_is_rejected_and_accepted_with_repair(db):
    tie = Polygon([(106.5, 29.5), (106.6, 29.6), (106.6, 29.5), (106.5, 29.6)])
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_region(level=Level.DISTRICT, code="500120", name="大足区", geom=tie)
    assert codes_of(exc) == ["invalid_geometry"]
    assert exc.value.problems[0].location is not None
    assert not Region.objects.exists()
    region = boundaries.create_region(
        level=Level.DISTRICT, code="500120", name="大足区", geom=tie, repair=True
    )
    assert region.boundary_on().valid


@pytest.mark.parametrize(
    "geom",
    [
        LineString([(106.12, 29.32), (106.16, 29.36)]),
        Point(106.12, 29.32),
        shapely.MultiPoint([(106.12, 29.32), (106.13, 29.33)]),
    ],
    ids=["line", "point", "multipoint"],
)
def test_non_polygon_is_rejected(blank, geom):
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 1, geom)
    assert codes_of(exc) == ["not_polygon"]
    assert counts() == before
    # Repair does not turn a line or a point into an area.
    with pytest.raises(ProblemsError):
        grid_in(blank.community, 1, geom, repair=True)
    assert counts() == before


def test_empty_polygon_is_rejected(blank):
    with pytest.raises(ProblemsError) as exc:
        grid_in(blank.community, 1, Polygon())
    assert codes_of(exc) == ["empty_geometry"]


def test_geos_geometry_is_accepted_and_stored_as_multipolygon(blank):
    geom = GEOSPolygon.from_bbox((BX0, BY0, 106.15, BY1))
    geom.srid = 4326
    grid = grid_in(blank.community, 1, geom)
    stored = grid.boundary_on()
    assert stored.geom_type == "MultiPolygon"
    assert stored.srid == 4326
    assert stored.equals(geom)


def test_grid_with_a_later_start_is_not_valid_before(blank):
    grid = boundaries.create_grid(
        code="500119001001001",
        name="新网格",
        community=blank.community,
        geom=box(BX0, BY0, 106.15, BY1),
        valid_from=dt.date(2025, 3, 1),
    )
    assert grid.boundary_on(dt.date(2025, 2, 28)) is None
    assert grid.boundary_on(dt.date(2025, 3, 1)) is not None
    assert not Grid.objects.valid_on(dt.date(2025, 2, 28)).filter(pk=grid.pk).exists()


def test_child_starting_before_its_parent_is_still_checked(tree):
    """A grid dated before its community's first boundary has no parent outline on that
    day to be checked against; it must not slip past the containment rule (its version
    stays open, so today it lies 30 km outside its community)."""
    community = tree.communities[(1, 1)]
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        boundaries.create_grid(
            code=f"{community.code}101",
            name="越界网格",
            community=community,
            geom=box(106.30, 29.60, 106.40, 29.70),
            theme=Theme.FOREST_FIRE,
            valid_from=dt.date(2023, 1, 1),
        )
    assert exc.value.problems
    assert counts() == before
