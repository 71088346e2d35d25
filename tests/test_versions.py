"""Boundary versions: a redraw closes the old version and opens a new one, households in the
changed area are re-keyed with their history, and figures for earlier dates do not move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from shapely.geometry import box

from grids.models import Grid, GridBoundary, Household, HouseholdGridHistory, RegionBoundary, today
from grids.problems import ProblemsError
from grids.services import boundaries, households, stats
from grids.services.boundaries import BoundaryChange
from tests.conftest import VALID_FROM

CHANGE = dt.date(2025, 7, 1)
BEFORE = dt.date(2025, 3, 1)
# Community (1, 1): lon 105.90-105.95, lat 29.30-29.35; its grids 001 (west) and 002 (east).
CX0, CY0, CX1, CY1 = 105.90, 29.30, 105.95, 29.35
NEW_EDGE = 105.93


def edge_of(tree) -> float:
    """The x of the shared edge of grids (1, 1, 1) and (1, 1, 2), exactly as stored."""
    return tree.grids[(1, 1, 1)].boundary_on().extent[2]


def add(address: str, x: float, y: float, **kwargs) -> Household:
    household, created = households.create_household(
        address=address, location=Point(x, y, srid=4326), registered_on=VALID_FROM, **kwargs
    )
    assert created
    return household


@pytest.fixture
def pair(tree):
    return tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]


@pytest.fixture
def houses(tree):
    edge = edge_of(tree)
    return {
        "moves": add("移动户", 105.927, 29.32),
        "on_new_edge": add("新边户", NEW_EDGE, 29.33),
        "on_old_edge": add("旧边户", edge, 29.34),
        "west": add("西户", 105.91, 29.32),
        "east": add("东户", 105.94, 29.32),
        "elsewhere": add("别处户", 105.96, 29.32),
    }


def move_edge(pair, x: float, on: dt.date, **kwargs) -> int:
    west, east = pair
    return boundaries.change_boundaries(
        [
            BoundaryChange(west, box(CX0, CY0, x, CY1), kwargs.pop("west_version", None)),
            BoundaryChange(east, box(x, CY0, CX1, CY1), kwargs.pop("east_version", None)),
        ],
        valid_from=on,
        reason="道路改线",
        **kwargs,
    )


def grid_of(household: Household) -> Grid | None:
    household.refresh_from_db()
    return household.grid


# ----------------------------------------------------------------------------- versions


def test_change_boundary_closes_the_old_version_and_opens_a_new_one(tree):
    district = tree.district
    old = district.boundary_on()
    before = RegionBoundary.objects.count()
    bigger = box(105.89, 29.29, 106.01, 29.41)
    moved = boundaries.change_boundary(district, bigger, valid_from=CHANGE, reason="扩区")
    assert moved == 0
    assert RegionBoundary.objects.count() == before + 1
    versions = list(district.boundaries.order_by("valid_from"))
    assert [(v.valid_from, v.valid_to) for v in versions] == [(VALID_FROM, CHANGE), (CHANGE, None)]
    assert versions[1].reason == "扩区"
    assert versions[0].geom.equals(old)
    assert district.boundary_on(BEFORE).equals(old)
    assert district.boundary_on(CHANGE).extent == pytest.approx((105.89, 29.29, 106.01, 29.41))
    assert district.boundary_on().extent == pytest.approx((105.89, 29.29, 106.01, 29.41))
    assert district.boundary_on(dt.date(2023, 12, 31)) is None


def test_grid_versions_by_date(pair):
    west, east = pair
    old_west = west.boundary_on()
    assert move_edge(pair, NEW_EDGE, CHANGE) == 0
    assert GridBoundary.objects.filter(grid=west).count() == 2
    assert GridBoundary.objects.filter(grid=east).count() == 2
    assert west.boundary_on(BEFORE).equals(old_west)
    assert west.boundary_on(CHANGE - dt.timedelta(days=1)).equals(old_west)
    assert west.boundary_on(CHANGE).extent[2] == pytest.approx(NEW_EDGE)
    assert west.boundary_on().extent[2] == pytest.approx(NEW_EDGE)
    for on, right in ((BEFORE, old_west.extent[2]), (CHANGE, NEW_EDGE), (today(), NEW_EDGE)):
        valid = GridBoundary.objects.valid_on(on).filter(grid=west)
        assert valid.count() == 1
        assert valid.get().geom.extent[2] == pytest.approx(right)
    # Every grid of the tree has exactly one version valid on any date since the start.
    assert GridBoundary.objects.valid_on(BEFORE).count() == 8
    assert GridBoundary.objects.valid_on().count() == 8
    assert GridBoundary.objects.current().count() == 8
    west.refresh_from_db()
    assert west.version == 2


def test_shrinking_a_region_below_its_children_is_refused(tree):
    community = tree.communities[(1, 1)]
    before = RegionBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        boundaries.change_boundary(community, box(CX0, CY0, 105.94, CY1), valid_from=CHANGE)
    assert {p.code for p in exc.value.problems} == {"outside_parent"}
    assert "500118001001002" in {p.feature for p in exc.value.problems}
    assert RegionBoundary.objects.count() == before
    assert community.boundary_on().extent == pytest.approx((CX0, CY0, CX1, CY1))


# -------------------------------------------------------------------- moving an edge


def test_moving_a_shared_edge_rekeys_only_the_households_in_the_changed_area(tree, pair, houses):
    west, east = pair
    assert grid_of(houses["moves"]) == east
    assert grid_of(houses["on_new_edge"]) == east
    assert grid_of(houses["on_old_edge"]) == west  # on the edge: the smallest code
    untouched = {
        key: Household.objects.get(pk=houses[key].pk).updated_at
        for key in ("on_old_edge", "west", "east", "elsewhere")
    }

    moved = move_edge(pair, NEW_EDGE, CHANGE, west_version=1, east_version=1)

    assert moved == 2
    assert grid_of(houses["moves"]) == west
    assert grid_of(houses["on_new_edge"]) == west  # now on the edge: the smallest code
    assert grid_of(houses["on_old_edge"]) == west
    assert grid_of(houses["west"]) == west
    assert grid_of(houses["east"]) == east
    assert grid_of(houses["elsewhere"]) == tree.grids[(2, 1, 1)]
    for key, stamp in untouched.items():
        assert Household.objects.get(pk=houses[key].pk).updated_at == stamp, key
    history = HouseholdGridHistory.objects.order_by("household_id")
    assert [(h.household_id, h.grid_id, h.valid_from, h.valid_to) for h in history] == [
        (houses["moves"].pk, east.pk, VALID_FROM, CHANGE),
        (houses["on_new_edge"].pk, east.pk, VALID_FROM, CHANGE),
    ]


def test_rollup_on_an_earlier_date_counts_households_in_their_old_grid(tree, pair, houses):
    households.add_residents(
        houses["moves"],
        [
            {
                "name": "张三",
                "id_number": "500118195001011234",
                "birth_date": dt.date(1950, 1, 1),
                "sex": "M",
                "tags": ["elderly"],
            }
        ],
    )
    move_edge(pair, NEW_EDGE, CHANGE)
    west, east = pair
    community = tree.communities[(1, 1)]

    earlier = stats.rollup(on=BEFORE)
    assert earlier["grids"][west.pk].households == 2  # west, on_old_edge
    assert earlier["grids"][east.pk].households == 3  # moves, on_new_edge, east
    assert earlier["grids"][east.pk].residents == 1
    assert earlier["grids"][east.pk].tags.get("elderly") == 1
    assert earlier["grids"][west.pk].tags.get("elderly", 0) == 0

    now = stats.rollup()
    assert now["grids"][west.pk].households == 4
    assert now["grids"][east.pk].households == 1
    assert now["grids"][west.pk].residents == 1
    assert now["grids"][west.pk].tags.get("elderly") == 1
    assert now["grids"][east.pk].tags.get("elderly", 0) == 0

    # The day of the change already counts the new grid.
    assert stats.rollup(on=CHANGE)["grids"][west.pk].households == 4
    # Above the grids nothing moved.
    for figures in (earlier, now):
        assert figures["regions"][community.pk].households == 5
        assert figures["regions"][community.pk].residents == 1
        assert figures["regions"][tree.district.pk].households == 6


def test_moving_an_edge_twice_keeps_a_history_for_every_period(tree, pair, houses):
    west, east = pair
    edge = edge_of(tree)
    second = dt.date(2026, 1, 1)
    assert move_edge(pair, NEW_EDGE, CHANGE) == 2
    assert move_edge(pair, edge, second) == 2
    assert grid_of(houses["moves"]) == east
    periods = HouseholdGridHistory.objects.filter(household=houses["moves"]).order_by("valid_from")
    assert [(h.grid_id, h.valid_from, h.valid_to) for h in periods] == [
        (east.pk, VALID_FROM, CHANGE),
        (west.pk, CHANGE, second),
    ]
    assert stats.rollup(on=BEFORE)["grids"][east.pk].households == 3
    assert stats.rollup(on=dt.date(2025, 9, 1))["grids"][east.pk].households == 1
    assert stats.rollup()["grids"][east.pk].households == 3
    assert GridBoundary.objects.filter(grid=west).count() == 3


def test_shrinking_a_grid_leaves_its_households_flagged(tree, pair, houses):
    west, east = pair
    gap = add("空隙户", 105.922, 29.33)
    moved = boundaries.change_boundary(west, box(CX0, CY0, 105.92, CY1), valid_from=CHANGE)
    assert moved == 2
    assert grid_of(gap) is None  # in no grid now: kept and flagged
    assert grid_of(houses["on_old_edge"]) == east  # still on the east grid's edge
    assert gap.pk in set(Household.objects.unassigned().values_list("pk", flat=True))
    assert stats.rollup(on=BEFORE)["grids"][west.pk].households == 3
    assert stats.rollup(on=BEFORE)["unassigned"].households == 0
    now = stats.rollup()
    assert now["grids"][west.pk].households == 1
    assert now["grids"][east.pk].households == 4
    assert now["unassigned"].households == 1


def test_change_today_by_default(pair, houses):
    west, east = pair
    assert move_edge(pair, NEW_EDGE, None) == 2
    assert west.boundaries.get(valid_to__isnull=True).valid_from == today()
    yesterday = today() - dt.timedelta(days=1)
    assert stats.rollup(on=yesterday)["grids"][east.pk].households == 3
    assert stats.rollup()["grids"][east.pk].households == 1


# ---------------------------------------------------------------------------- refusals


def test_stale_expected_version_is_refused(pair, houses):
    west, east = pair
    move_edge(pair, NEW_EDGE, CHANGE, west_version=1, east_version=1)
    west.refresh_from_db()
    assert west.version == 2
    versions_before = GridBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        boundaries.change_boundary(
            west, box(CX0, CY0, NEW_EDGE, CY1), expected_version=1, valid_from=today()
        )
    assert [p.code for p in exc.value.problems] == ["stale_version"]
    assert exc.value.problems[0].feature == west.code
    assert GridBoundary.objects.count() == versions_before
    west.refresh_from_db()
    assert west.version == 2


def test_one_stale_change_fails_the_whole_redraw(tree, pair, houses):
    west, east = pair
    boundaries.change_boundary(east, box(edge_of(tree), CY0, CX1, CY1), valid_from=BEFORE)
    east.refresh_from_db()
    assert east.version == 2
    versions_before = GridBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        move_edge(pair, NEW_EDGE, CHANGE, west_version=1, east_version=1)
    assert [p.code for p in exc.value.problems] == ["stale_version"]
    assert exc.value.problems[0].feature == east.code
    assert GridBoundary.objects.count() == versions_before
    west.refresh_from_db()
    assert west.version == 1
    assert west.boundaries.get(valid_to__isnull=True).valid_from == VALID_FROM
    assert grid_of(houses["moves"]) == east
    assert not HouseholdGridHistory.objects.exists()


def test_future_valid_from_is_refused(pair, houses):
    west, _ = pair
    before = GridBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        move_edge(pair, NEW_EDGE, today() + dt.timedelta(days=1))
    assert [p.code for p in exc.value.problems] == ["future_date"]
    assert GridBoundary.objects.count() == before
    west.refresh_from_db()
    assert west.version == 1


def test_valid_from_before_the_current_version_is_refused(pair):
    west, _ = pair
    with pytest.raises(ProblemsError) as exc:
        boundaries.change_boundary(west, box(CX0, CY0, 105.92, CY1), valid_from=dt.date(2023, 6, 1))
    assert [p.code for p in exc.value.problems] == ["before_current_version"]
    assert GridBoundary.objects.filter(grid=west).count() == 1


def test_one_sided_change_creating_an_overlap_is_refused_and_rolled_back(pair, houses):
    west, east = pair
    old_west = west.boundary_on()
    before = GridBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        boundaries.change_boundary(
            west, box(CX0, CY0, NEW_EDGE, CY1), expected_version=1, valid_from=CHANGE
        )
    assert {p.code for p in exc.value.problems} == {"overlap"}
    problem = exc.value.problems[0]
    assert problem.location is not None
    assert old_west.extent[2] <= problem.location[0] <= NEW_EDGE
    assert GridBoundary.objects.count() == before
    west.refresh_from_db()
    assert west.version == 1
    current = west.boundaries.get(valid_to__isnull=True)
    assert current.valid_from == VALID_FROM
    assert current.geom.equals(old_west)
    assert grid_of(houses["moves"]) == east
    assert not HouseholdGridHistory.objects.exists()


def test_backdated_change_is_checked_against_later_versions_of_its_neighbours(tree, pair):
    """A new version stays valid from its start until today: it must not overlap any
    neighbour's version valid during that time, not only the one valid on its first day."""
    west, east = pair
    edge = edge_of(tree)
    boundaries.change_boundary(west, box(CX0, CY0, 105.92, CY1), valid_from=dt.date(2025, 1, 1))
    # East takes the gap from 2026-01-01 on: it touches west as west then was.
    boundaries.change_boundary(east, box(105.92, CY0, CX1, CY1), valid_from=dt.date(2026, 1, 1))
    before = GridBoundary.objects.count()
    with pytest.raises(ProblemsError) as exc:
        # West back to its old edge from 2025-07-01: fine then, but from 2026-01-01 (and
        # today) it overlaps east by ~500 m.
        boundaries.change_boundary(west, box(CX0, CY0, edge, CY1), valid_from=CHANGE)
    assert {p.code for p in exc.value.problems} == {"overlap"}
    assert GridBoundary.objects.count() == before


def test_a_period_in_no_grid_stays_in_no_grid_for_that_date(tree, pair, houses):
    """A history row that says "no grid" is not mistaken for "no history"."""
    west, east = pair
    gap = add("空隙户", 105.922, 29.33)
    full = west.boundary_on()
    boundaries.change_boundary(west, box(CX0, CY0, 105.92, CY1), valid_from=CHANGE)
    later = dt.date(2026, 1, 1)
    boundaries.change_boundary(west, full, valid_from=later)
    assert grid_of(gap) == west
    between = stats.rollup(on=dt.date(2025, 9, 1))
    assert between["unassigned"].households == 1
    assert between["grids"][west.pk].households == 1
    assert stats.rollup()["unassigned"].households == 0
