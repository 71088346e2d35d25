"""Today's per-grid figures are precomputed (GridFigures) and kept right by every write path:
after any write, current_figures() equals a fresh count from the tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.contrib.gis.geos import Point
from shapely.geometry import box

from grids.models import GridFigures, Household, Resident, StaleFigures, today
from grids.services import boundaries, households, stats
from grids.services.imports import import_households
from tests.conftest import VALID_FROM, centre_of


def person(n: int, *tags: str) -> dict:
    return {
        "name": f"居民{n}",
        "id_number": f"50011819800101{n:03d}X",
        "birth_date": dt.date(1980, 1, 1),
        "sex": "M",
        "tags": list(tags),
    }


def assert_current(extra: str = "") -> dict:
    """The precomputed figures are those a fresh count gives, for every grid."""
    current = stats.current_figures()
    fresh = stats.grid_figures(today())
    for grid_id in set(current) | set(fresh):
        assert current.get(grid_id, stats.Figures()) == fresh.get(grid_id, stats.Figures()), (
            grid_id,
            extra,
        )
    return current


@pytest.fixture
def counted(homes):
    """The homes, counted once: later writes are caught by the stale marks."""
    assert_current("initial")
    return homes


def test_first_count_covers_every_grid_and_the_unassigned(tree, homes, add_household):
    add_household(Point(105.0, 29.0, srid=4326), address="区外户")
    figures = assert_current()
    assert figures[tree.grids[(1, 1, 1)].pk].households == 1
    assert figures[None].households == 1
    assert GridFigures.objects.filter(computed_on=today()).count() == len(figures)


def test_new_household_and_residents_are_counted(tree, counted, add_household):
    grid = tree.grids[(2, 1, 2)]
    household = add_household(centre_of(grid), address="新户")
    households.add_residents(household, [person(1, "elderly"), person(2, "child")])
    figures = assert_current()
    f = figures[grid.pk]
    assert (f.households, f.residents) == (2, 2)
    assert (f.tags["elderly"], f.tags["child"]) == (1, 1)


def test_resident_tag_edit_and_delete_are_counted(tree, counted):
    household = counted[(1, 2, 1)]
    (resident,) = households.add_residents(household, [person(3)])
    stats.current_figures()
    resident.tags = ["veteran"]
    resident.save()
    assert assert_current()[household.grid_id].tags["veteran"] == 1
    Resident.objects.filter(pk=resident.pk).delete()
    households.refresh_member_counts([household.pk])
    f = assert_current()[household.grid_id]
    assert (f.residents, f.tags.get("veteran", 0)) == (0, 0)


def test_moved_household_leaves_its_old_grid(tree, counted):
    household = counted[(1, 1, 1)]
    old = household.grid_id
    households.move_household(household, centre_of(tree.grids[(2, 2, 2)]))
    figures = assert_current()
    assert figures.get(old, stats.Figures()).households == 0
    assert figures[tree.grids[(2, 2, 2)].pk].households == 2


def test_removed_and_deleted_households_are_not_counted(tree, counted):
    counted[(1, 1, 2)].removed_on = today()
    counted[(1, 1, 2)].save()
    Household.objects.filter(pk=counted[(2, 1, 1)].pk).delete()
    figures = assert_current()
    assert figures.get(tree.grids[(1, 1, 2)].pk, stats.Figures()).households == 0
    assert figures.get(tree.grids[(2, 1, 1)].pk, stats.Figures()).households == 0


def test_a_redraw_moves_figures_with_the_households(tree, counted):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    Household.objects.update(registered_on=VALID_FROM)
    w = west.boundary_on().extent
    e = east.boundary_on().extent
    # East takes all of west's area but a sliver: west's household moves east.
    boundaries.change_boundaries(
        [
            boundaries.BoundaryChange(west, box(w[0], w[1], w[0] + 0.001, w[3])),
            boundaries.BoundaryChange(east, box(w[0] + 0.001, e[1], e[2], e[3])),
        ],
        valid_from=today(),
    )
    figures = assert_current()
    assert figures[east.pk].households == 2
    # The past keeps its own figures: before the redraw west had its household.
    before = stats.rollup(VALID_FROM + dt.timedelta(days=1))
    assert before["grids"][west.pk].households == 1


def test_bulk_import_is_counted(tree, counted, tmp_path):
    grid = tree.grids[(2, 2, 1)]
    p = centre_of(grid)
    path = tmp_path / "h.csv"
    pd.DataFrame(
        {
            "address": [f"批量{i}号" for i in range(30)],
            "lon": [p.x + i * 1e-5 for i in range(30)],
            "lat": [p.y] * 30,
        }
    ).to_csv(path, index=False)
    report = import_households(path, commit=True)
    assert report.written == 30
    assert assert_current()[grid.pk].households == 31


def test_a_new_day_recounts(tree, counted):
    # Households registered with a future date are counted from that day on.
    later = counted[(1, 2, 2)]
    Household.objects.filter(pk=later.pk).update(registered_on=today() + dt.timedelta(days=1))
    stats.current_figures()
    # A count made yesterday is not trusted today, even with no write marked stale.
    Household.objects.filter(pk=later.pk).update(registered_on=today())
    StaleFigures.objects.all().delete()
    GridFigures.objects.update(computed_on=today() - dt.timedelta(days=1))
    assert assert_current()[later.grid_id].households == 1


def test_rollup_of_today_reads_the_precomputed_figures(
    tree, counted, django_assert_max_num_queries
):
    stats.current_figures()
    # No count over households or residents: a handful of small queries.
    with django_assert_max_num_queries(9):
        result = stats.rollup()
    assert result["regions"][tree.district.pk].households == len(counted)
