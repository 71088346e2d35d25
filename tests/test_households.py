"""Households are keyed to their grid when written, one way by the single path and the bulk
path alike; residents and tags roll up the tree."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.contrib.gis.geos import Point
from shapely.geometry import box

from grids.models import Grid, Household, Resident, today
from grids.problems import ProblemsError
from grids.services import boundaries, households, stats
from grids.services.imports import load_households
from tests.conftest import VALID_FROM, centre_of


def pt(x: float, y: float) -> Point:
    return Point(x, y, srid=4326)


def resident(name: str, *tags: str, id_number: str = "500118198001011234", **extra) -> dict:
    return {
        "name": name,
        "id_number": id_number,
        "birth_date": dt.date(1980, 1, 1),
        "sex": "F",
        "tags": list(tags),
        **extra,
    }


def edges(tree) -> dict[str, Point]:
    """Points on the edges and corners shared by grids of the tree, exactly as stored."""
    x0, y0, x1, y1 = tree.grids[(1, 1, 1)].boundary_on().extent  # grid (1,1,1): south-west
    _, _, sx1, sy1 = tree.communities[(1, 1)].boundary_on().extent
    return {
        # grids (1,1,1) | (1,1,2): the line between two grids of one community
        "grid_edge": pt(x1, (y0 + y1) / 2),
        # grids (1,1,1) / (1,2,1): the line between two communities of one street
        "community_edge": pt((x0 + x1) / 2, y1),
        # grids (1,1,2) | (2,1,1): the line between two streets
        "street_edge": pt(sx1, (y0 + y1) / 2),
        # four grids meet: (1,1,2), (1,2,2), (2,1,1), (2,2,1)
        "corner": pt(sx1, sy1),
        # (1,1,1), (1,1,2), (1,2,1), (1,2,2)
        "inner_corner": pt(x1, y1),
    }


EXPECTED_ON_EDGE = {
    "grid_edge": (1, 1, 1),
    "community_edge": (1, 1, 1),
    "street_edge": (1, 1, 2),
    "corner": (1, 1, 2),
    "inner_corner": (1, 1, 1),
}


# ------------------------------------------------------------------------ single path


def test_create_household_keys_its_grid(tree):
    for key, grid in tree.grids.items():
        household, created = households.create_household(
            address=f"重庆市永川区{key}号", location=centre_of(grid)
        )
        assert created
        assert household.grid == grid
        assert not household.flagged
    assert not Household.objects.unassigned().exists()


def test_point_in_no_grid_is_kept_and_flagged(tree):
    household, created = households.create_household(
        address="重庆市荣昌区某路1号", location=pt(106.30, 29.35)
    )
    assert created
    household.refresh_from_db()
    assert household.grid is None
    assert household.flagged
    assert list(Household.objects.unassigned()) == [household]
    assert stats.rollup()["unassigned"].households == 1


def test_point_on_a_shared_edge_goes_to_the_smallest_code(tree):
    for name, point in edges(tree).items():
        covering = Grid.objects.containing(point)
        assert covering.count() >= 2, name
        household, _ = households.create_household(address=name, location=point)
        assert household.grid == tree.grids[EXPECTED_ON_EDGE[name]], name
        assert household.grid == covering.first()


def test_new_grid_keys_the_flagged_households_it_covers(tree):
    """A grid drawn over households in no grid takes them in."""
    outline = box(106.00, 29.30, 106.05, 29.35)
    flagged, _ = households.create_household(address="新区1号", location=pt(106.02, 29.32))
    assert Household.objects.unassigned().count() == 1
    district = boundaries.create_region(
        level="district", code="500119", name="荣昌区", geom=outline
    )
    street = boundaries.create_region(
        level="street", code="500119001", name="街道", geom=outline, parent=district
    )
    community = boundaries.create_region(
        level="community", code="500119001001", name="社区", geom=outline, parent=street
    )
    grid = boundaries.create_grid(
        code="500119001001001", name="新网格", community=community, geom=outline
    )
    flagged.refresh_from_db()
    assert flagged.grid == grid
    assert not Household.objects.unassigned().exists()


# -------------------------------------------------------------------------- bulk path


def test_bulk_path_keys_points_like_the_single_path(tree):
    points = dict(edges(tree))
    for key, grid in tree.grids.items():
        points[f"centre{key}"] = centre_of(grid)
    # ~1 km east of the district: in no grid, but not far enough to be refused.
    points["outside"] = pt(106.01, 29.33)
    single = {}
    for name, point in points.items():
        household, _ = households.create_household(address=f"single {name}", location=point)
        single[name] = household.grid_id
    assert single["outside"] is None

    table = pd.DataFrame(
        {
            "row": range(1, len(points) + 1),
            "address": [f"bulk {name}" for name in points],
            "lon": [p.x for p in points.values()],
            "lat": [p.y for p in points.values()],
        }
    )
    report = load_households(table, commit=True)
    assert report.errors == []
    assert report.committed
    assert report.written == len(points)
    assert report.flagged == 1
    outside_row = list(points).index("outside") + 1
    assert [(p.code, p.row, p.severity) for p in report.warnings] == [
        ("outside_grid", outside_row, "warning")
    ]
    bulk = dict(
        Household.objects.filter(address__startswith="bulk ").values_list("address", "grid_id")
    )
    assert {name: bulk[f"bulk {name}"] for name in points} == single
    for name, key in EXPECTED_ON_EDGE.items():
        assert bulk[f"bulk {name}"] == tree.grids[key].pk


# ------------------------------------------------------------------------ idempotence


def test_client_key_makes_create_household_idempotent(tree):
    grid = tree.grids[(2, 1, 2)]
    first, created = households.create_household(
        address="重庆市永川区胜利路8号", location=centre_of(grid), client_key="phone-42-0001"
    )
    assert created
    again, created_again = households.create_household(
        address="重庆市永川区胜利路8号", location=centre_of(grid), client_key="phone-42-0001"
    )
    assert not created_again
    assert again.pk == first.pk
    assert Household.objects.filter(client_key="phone-42-0001").count() == 1
    assert Household.objects.count() == 1
    # Another key, or none, is another household.
    households.create_household(address="另一户", location=centre_of(grid), client_key="k2")
    households.create_household(address="无键户", location=centre_of(grid))
    households.create_household(address="无键户", location=centre_of(grid))
    assert Household.objects.count() == 4


def test_empty_client_key_gets_a_key_of_its_own(tree):
    """Every household has a key (so that exports re-import cleanly); an empty one sent by a
    client is no key, and two such submissions make two households with distinct keys."""
    grid = tree.grids[(1, 1, 1)]
    a, _ = households.create_household(address="a", location=centre_of(grid), client_key="")
    b, created = households.create_household(address="b", location=centre_of(grid), client_key="")
    assert created
    assert a.pk != b.pk
    assert a.client_key and b.client_key and a.client_key != b.client_key


# ------------------------------------------------------------------- residents, roll-up


def test_add_residents_updates_member_count(tree, add_household):
    household = add_household(centre_of(tree.grids[(1, 1, 1)]))
    assert household.member_count == 0
    created = households.add_residents(
        household, [resident("王芳", "elderly"), resident("李雷", "child")]
    )
    assert len(created) == 2
    household.refresh_from_db()
    assert household.member_count == 2
    households.add_residents(household, [resident("韩梅梅")])
    household.refresh_from_db()
    assert household.member_count == 3
    assert Resident.objects.filter(household=household).count() == 3


def test_bad_resident_is_refused_and_nothing_written(tree, add_household):
    from django.core.exceptions import ValidationError

    household = add_household(centre_of(tree.grids[(1, 1, 1)]))
    with pytest.raises(ValidationError):
        households.add_residents(household, [resident("王芳"), resident("坏号", id_number="12345")])
    household.refresh_from_db()
    assert household.member_count == 0
    assert not Resident.objects.exists()


def test_rollup_per_grid_and_up_the_tree(tree, homes):
    households.add_residents(
        homes[(1, 1, 1)],
        [
            resident("甲", "elderly", "living_alone"),
            resident("乙", "elderly"),
            resident("丙", "child"),
        ],
    )
    households.add_residents(homes[(1, 2, 2)], [resident("丁", "elderly", "veteran")])
    households.add_residents(homes[(2, 2, 1)], [resident("戊", "disabled"), resident("己")])
    households.create_household(address="网格外", location=pt(106.01, 29.33))

    figures = stats.rollup()
    g, r = figures["grids"], figures["regions"]
    assert set(g) == {grid.pk for grid in tree.grids.values()}
    assert all(g[grid.pk].households == 1 for grid in tree.grids.values())

    g111 = g[tree.grids[(1, 1, 1)].pk]
    assert (g111.residents, g111.tags["elderly"], g111.tags["living_alone"]) == (3, 2, 1)
    assert g111.tags["child"] == 1
    assert g111.tags.get("veteran", 0) == 0  # a tag nobody carries is absent: zero
    assert g[tree.grids[(1, 2, 2)].pk].tags["veteran"] == 1
    assert g[tree.grids[(2, 1, 1)].pk].residents == 0

    c11 = r[tree.communities[(1, 1)].pk]
    assert (c11.households, c11.residents, c11.tags["elderly"]) == (2, 3, 2)
    s1 = r[tree.streets[1].pk]
    assert (s1.households, s1.residents, s1.tags["elderly"], s1.tags["veteran"]) == (4, 4, 3, 1)
    s2 = r[tree.streets[2].pk]
    assert (s2.households, s2.residents, s2.tags["disabled"]) == (4, 2, 1)
    d = r[tree.district.pk]
    assert (d.households, d.residents) == (8, 6)
    assert d.tags["elderly"] == 3 and d.tags["child"] == 1 and d.tags["disabled"] == 1
    assert figures["unassigned"].households == 1
    # Every level adds up to the one above.
    for level_nodes, parent in (
        (tree.streets.values(), tree.district),
        ([tree.communities[(1, c)] for c in (1, 2)], tree.streets[1]),
    ):
        total = sum(r[node.pk].households for node in level_nodes)
        assert total == r[parent.pk].households


def test_rollup_counts_households_that_existed_on_the_date(tree, add_household):
    grid = tree.grids[(1, 1, 1)]
    add_household(centre_of(grid), registered_on=VALID_FROM)
    later, _ = households.create_household(
        address="新户", location=centre_of(grid), registered_on=dt.date(2025, 6, 1)
    )
    removed = add_household(centre_of(grid), registered_on=VALID_FROM)
    Household.objects.filter(pk=removed.pk).update(removed_on=dt.date(2025, 1, 1))
    assert stats.rollup(on=dt.date(2024, 6, 1))["grids"][grid.pk].households == 2
    assert stats.rollup(on=dt.date(2025, 3, 1))["grids"][grid.pk].households == 1
    assert stats.rollup()["grids"][grid.pk].households == 2


@pytest.fixture
def next_month_grid(tree):
    """A new district east of the tree whose only grid starts in 30 days."""
    outline = box(106.00, 29.30, 106.02, 29.32)
    parent = None
    for level, code in (
        ("district", "500119"),
        ("street", "500119001"),
        ("community", "500119001001"),
    ):
        parent = boundaries.create_region(
            level=level,
            code=code,
            name=f"新{level}",
            geom=outline,
            parent=parent,
            valid_from=VALID_FROM,
        )
    return lambda: boundaries.create_grid(
        code="500119001001001",
        name="下月网格",
        community=parent,
        geom=outline,
        valid_from=today() + dt.timedelta(days=30),
    )


def test_grid_starting_in_the_future_is_refused_and_keys_nobody(next_month_grid):
    """A boundary cannot start in the future: it would key nobody yet, and the single and
    bulk paths would disagree about it. Both leave the point in no grid."""
    waiting, _ = households.create_household(address="早户", location=pt(106.01, 29.31))
    with pytest.raises(ProblemsError) as refused:
        next_month_grid()
    assert [p.code for p in refused.value.problems] == ["future_date"]
    assert not Grid.objects.filter(code="500119001001001").exists()
    single, _ = households.create_household(address="单户", location=pt(106.011, 29.311))
    report = load_households(
        pd.DataFrame({"row": [1], "address": ["批量户"], "lon": [106.012], "lat": [29.312]}),
        commit=True,
    )
    assert report.errors == []
    bulk = Household.objects.get(address="批量户")
    waiting.refresh_from_db()
    assert single.grid is None and waiting.grid is None and bulk.grid is None


def test_every_household_is_counted_once_today(tree, homes, next_month_grid):
    households.create_household(address="早户", location=pt(106.01, 29.31))
    with pytest.raises(ProblemsError):
        next_month_grid()
    figures = stats.rollup()
    counted = sum(f.households for f in figures["grids"].values())
    counted += figures["unassigned"].households
    assert counted == Household.objects.existing_on().count() == 9
