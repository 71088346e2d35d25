"""Daily snapshots of derived figures (issue #17, item 6): a past period's derived figures are
kept once computed and read back, never kept for the current period, dropped by a back-dated
edit (a household registered on a past day, a boundary change valid from a past day) and not
by an edit effective today; the figures are the same with and without them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from grids.changes import data_changed_since
from grids.services import households as household_service
from reports.models import DerivedSnapshot, Indicator, ReportTemplate, SnapshotDrop, TemplateColumn
from reports.periods import Period
from reports.services import snapshots
from reports.services.generate import build_table
from reports.services.indicators import ensure_groups, sync_derived
from reports.services.values import Values, tree_under
from tests.conftest import VALID_FROM, centre_of
from tests.test_versions import move_edge

TODAY = timezone.localdate()
THIS_MONTH = Period.containing(TODAY, "month")
LAST_MONTH = THIS_MONTH.previous()
TWO_AGO = LAST_MONTH.previous()
DERIVED = ["POP_HOUSEHOLDS", "POP_RESIDENTS", "POP_ELDERLY", "AREA_KM2", "ORG_GRID_WORKERS"]


@pytest.fixture
def template(tree, users):
    sync_derived()
    ensure_groups()
    t = ReportTemplate.objects.create(
        owner=users.department.department,
        code="derived-monthly",
        title="派生指标月报",
        row_level="grid",
        period_type="month",
    )
    for order, code in enumerate(DERIVED, 1):
        TemplateColumn.objects.create(
            template=t, order=order, indicator=Indicator.objects.get(code=code)
        )
    return t


@pytest.fixture
def people(tree):
    """Two households per grid registered long ago, with residents, one of them elderly."""
    for key, grid in tree.grids.items():
        s, c, g = key
        centre = centre_of(grid)
        for i in range(2):
            household, _ = household_service.create_household(
                address=f"户{key}{i}",
                location=Point(centre.x + i * 1e-4, centre.y, srid=4326),
                registered_on=VALID_FROM,
            )
            household_service.add_residents(
                household,
                [
                    {
                        "name": f"老{key}{i}",
                        "id_number": f"5001181940{s}{c}{g}{i}000X",
                        "sex": "F",
                        "birth_date": dt.date(1940, 5, 1),
                        "tags": ["elderly"],
                    },
                    {
                        "name": f"小{key}{i}",
                        "id_number": f"5001182015{s}{c}{g}{i}000X",
                        "sex": "M",
                        "birth_date": dt.date(2015, 5, 1),
                    },
                ],
            )


def column(table, code: str) -> dict[str, object]:
    i = [c.indicator.code for c in table.columns].index(code)
    return {row.code: row.values[i] for row in table.rows}


def kept(period: Period) -> int:
    return DerivedSnapshot.objects.filter(
        period_type=period.type, period_start=period.start
    ).count()


def test_a_past_period_is_kept_once_computed_and_the_current_one_never(tree, template, people):
    build_table(template, THIS_MONTH, tree.district)
    assert DerivedSnapshot.objects.count() == 0
    build_table(template, LAST_MONTH, tree.district)
    # Every derived column for every grid, a grid without a value included (none here).
    assert kept(LAST_MONTH) == len(DERIVED) * len(tree.grids)
    row = DerivedSnapshot.objects.get(
        indicator__code="POP_HOUSEHOLDS", grid=tree.grids[(1, 1, 1)], period_start=LAST_MONTH.start
    )
    assert (row.value, row.day) == (2, LAST_MONTH.last_day)


def test_the_kept_figures_are_read_back_in_one_query(
    tree, template, people, django_assert_max_num_queries
):
    build_table(template, LAST_MONTH, tree.district)
    # Proof that they are read, not recomputed: a kept value changed by hand shows.
    DerivedSnapshot.objects.filter(
        indicator__code="POP_RESIDENTS", grid=tree.grids[(1, 1, 1)]
    ).update(value=99)
    # The columns, the tree (three queries) and every kept figure in one.
    with django_assert_max_num_queries(5):
        table = build_table(template, LAST_MONTH, tree.district)
    assert column(table, "POP_RESIDENTS")[tree.grids[(1, 1, 1)].code] == 99


def test_figures_are_the_same_with_and_without_snapshots(tree, template, people, users):
    for period in (LAST_MONTH, TWO_AGO, Period.parse(str(TODAY.year - 1))):
        for region in (tree.district, tree.communities[(1, 1)]):
            day = min(period.last_day, TODAY)
            computed = Values(tree_under(region, day), period, snapshots=False)
            cold = Values(tree_under(region, day), period)
            warm = Values(tree_under(region, day), period)
            for code in DERIVED:
                indicator = Indicator.objects.get(code=code)
                for level in ("grid", "community", "street"):
                    expected = {pk: c.value for pk, c in computed.at(indicator, level).items()}
                    assert {pk: c.value for pk, c in cold.at(indicator, level).items()} == expected
                    assert {pk: c.value for pk, c in warm.at(indicator, level).items()} == expected
    assert kept(LAST_MONTH) and kept(TWO_AGO)


def test_a_community_kept_first_then_the_district_computes_only_the_other_grids(
    tree, template, people
):
    build_table(template, LAST_MONTH, tree.communities[(1, 1)])
    assert kept(LAST_MONTH) == len(DERIVED) * 2
    table = build_table(template, LAST_MONTH, tree.district)
    assert kept(LAST_MONTH) == len(DERIVED) * len(tree.grids)
    assert set(column(table, "POP_HOUSEHOLDS").values()) == {2}


def test_a_household_registered_on_a_past_day_drops_what_was_kept_since(
    tree, template, people, django_capture_on_commit_callbacks
):
    build_table(template, TWO_AGO, tree.district)
    build_table(template, LAST_MONTH, tree.district)
    grid = tree.grids[(2, 1, 2)]
    with django_capture_on_commit_callbacks(execute=True):
        household_service.create_household(
            address="补登户",
            location=centre_of(grid),
            registered_on=LAST_MONTH.start + dt.timedelta(days=3),
        )
    assert kept(LAST_MONTH) == 0
    assert kept(TWO_AGO) == len(DERIVED) * len(tree.grids)  # ended before: kept
    table = build_table(template, LAST_MONTH, tree.district)
    assert column(table, "POP_HOUSEHOLDS")[grid.code] == 3
    assert column(build_table(template, TWO_AGO, tree.district), "POP_HOUSEHOLDS")[grid.code] == 2


def test_a_household_registered_today_keeps_the_past(
    tree, template, people, django_capture_on_commit_callbacks
):
    build_table(template, LAST_MONTH, tree.district)
    grid = tree.grids[(2, 1, 2)]
    # Drops logged by earlier tests' commits (a live server's) may be there: count new ones.
    drops = SnapshotDrop.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        household_service.create_household(address="新户", location=centre_of(grid))
    assert kept(LAST_MONTH) == len(DERIVED) * len(tree.grids)
    assert SnapshotDrop.objects.count() == drops
    assert (
        column(build_table(template, LAST_MONTH, tree.district), "POP_HOUSEHOLDS")[grid.code] == 2
    )
    assert (
        column(build_table(template, THIS_MONTH, tree.district), "POP_HOUSEHOLDS")[grid.code] == 3
    )


def test_a_boundary_change_valid_from_a_past_day_drops_what_was_kept_since(
    tree, template, django_capture_on_commit_callbacks
):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    for x in (105.910, 105.927, 105.940):
        household_service.create_household(
            address=f"户{x}", location=Point(x, 29.32, srid=4326), registered_on=VALID_FROM
        )
    build_table(template, TWO_AGO, tree.district)
    before = column(build_table(template, LAST_MONTH, tree.district), "POP_HOUSEHOLDS")
    assert (before[west.code], before[east.code]) == (1, 2)
    with django_capture_on_commit_callbacks(execute=True):
        move_edge((west, east), 105.93, LAST_MONTH.start)  # 105.927 moves from east to west
    assert kept(LAST_MONTH) == 0 and kept(TWO_AGO) > 0
    after = column(build_table(template, LAST_MONTH, tree.district), "POP_HOUSEHOLDS")
    assert (after[west.code], after[east.code]) == (2, 1)
    earlier = column(build_table(template, TWO_AGO, tree.district), "POP_HOUSEHOLDS")
    assert (earlier[west.code], earlier[east.code]) == (1, 2)


def test_a_rolled_back_back_dated_write_drops_nothing(tree, template, people):
    build_table(template, LAST_MONTH, tree.district)
    # No on-commit execution: the test's transaction is never committed, as a write that
    # rolls back; nothing is sent.
    data_changed_since("households", LAST_MONTH.start)
    assert kept(LAST_MONTH) == len(DERIVED) * len(tree.grids)


def test_a_computation_that_started_before_a_drop_does_not_keep_what_it_read(tree, template):
    indicator = Indicator.objects.get(code="POP_HOUSEHOLDS")
    started = timezone.now()
    snapshots.drop_since(LAST_MONTH.start)  # a back-dated change committed meanwhile
    grid = tree.grids[(1, 1, 1)].pk
    assert snapshots.write(indicator, LAST_MONTH, {grid: Decimal(1)}, started) == 0
    assert snapshots.write(indicator, TWO_AGO, {grid: Decimal(1)}, started) == 1
    assert snapshots.write(indicator, LAST_MONTH, {grid: Decimal(1)}, timezone.now()) == 1


def test_editing_an_indicator_drops_its_kept_figures(tree, template, people):
    build_table(template, LAST_MONTH, tree.district)
    indicator = Indicator.objects.get(code="POP_ELDERLY")
    indicator.name = "老年人数（60周岁以上）"
    indicator.save()
    assert not DerivedSnapshot.objects.filter(indicator=indicator).exists()
    assert kept(LAST_MONTH) == (len(DERIVED) - 1) * len(tree.grids)


def test_the_nightly_job_keeps_the_periods_that_ended_and_refills_what_was_dropped(
    tree, template, people
):
    month_end = LAST_MONTH.last_day
    looked = snapshots.keep_recent(month_end, months=2)
    assert {LAST_MONTH.key, TWO_AGO.key} <= set(looked)
    derived = Indicator.objects.derived().active(month_end).count()
    assert kept(LAST_MONTH) == kept(TWO_AGO) == derived * len(tree.grids)
    snapshots.drop_since(LAST_MONTH.start)
    assert kept(LAST_MONTH) == 0
    snapshots.keep_recent(month_end, months=2)
    assert kept(LAST_MONTH) == derived * len(tree.grids)
    # The day after a month's end, nothing newly ended: the months kept are read again.
    assert set(snapshots.keep_recent(month_end + dt.timedelta(days=1), months=2)) >= {
        LAST_MONTH.key
    }


def test_grids_kept_for_some_columns_only_do_not_mix_the_others(tree, template, people, users):
    # POP_HOUSEHOLDS kept for community (1, 1)'s two grids; then the district asks it beside
    # POP_RESIDENTS, kept for none: both derive from one memoised read of the figures, which
    # must not be shared between the six grids missing for one and the eight for the other.
    households = ReportTemplate.objects.create(
        owner=users.department.department,
        code="households-only",
        title="户数",
        row_level="grid",
        period_type="month",
    )
    TemplateColumn.objects.create(
        template=households, order=1, indicator=Indicator.objects.get(code="POP_HOUSEHOLDS")
    )
    build_table(households, LAST_MONTH, tree.communities[(1, 1)])
    warm = build_table(template, LAST_MONTH, tree.district)
    computed = build_table(template, LAST_MONTH, tree.district, snapshots=False)
    assert [r.values for r in warm.rows] == [r.values for r in computed.rows]
    assert set(column(warm, "POP_RESIDENTS").values()) == {4}
