"""The past stays the past (issue #7): after a boundary change from day D, figures for a day
before D are those of the old grids (households and residents, incidents reported, sensor
stock), and from D on those of the new ones; a grid retired on D appears before D only."""

from __future__ import annotations

import datetime as dt

import pytest
from boundary_apply_helpers import EAST, WEST, approve, at, item, strip

from boundaries.services import changesets
from boundaries.services.apply import apply
from grids.models import Grid, Household, today
from grids.services.stats import rollup
from incidents.models import Incident
from incidents.services import Report, report_incident
from reports import derived
from reports.periods import Period
from sensors.services import registry
from sensors.services.registry import SensorSpec

SINCE = dt.date(2024, 6, 1)


def first_of_month(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


# D: the first day of last month, so that the month before it and the month from it are both
# past periods (read from history), and this month is the current one.
D = first_of_month(today(), 1)
BEFORE = Period(first_of_month(today(), 2), "month")
AFTER = Period(D, "month")
NOW = Period(first_of_month(today()), "month")


@pytest.fixture
def merged(tree, users, catalogue, add_household):
    """Two households in the east grid and one in the west, registered long before D; a
    smoke detector in the east grid; an open incident reported in the east grid in the month
    before D and one after D (before the apply); then the east grid is merged into the west
    from D."""
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    for x, members in ((105.94, 2), (105.945, 3), (105.91, 4)):
        household = add_household(at(x), registered_on=SINCE)
        Household.objects.filter(pk=household.pk).update(member_count=members)
    registry.create_sensor(
        SensorSpec(code="SMK-1", type="smoke_detector", location=at(105.94), installed_on=SINCE)
    )
    for title, when in (
        ("前", BEFORE.start + dt.timedelta(days=14)),
        ("后", D + dt.timedelta(days=3)),
    ):
        found, _ = report_incident(
            Report(title=title, category="T0101", source="patrol", location=at(105.94)),
            user=users.admin,
        )
        Incident.objects.filter(pk=found.pk).update(
            reported_at=dt.datetime.combine(when, dt.time(10), tzinfo=dt.UTC)
        )
    change_set = changesets.create(
        user=users.worker, region=tree.communities[(1, 1)], title="合并网格", valid_from=D
    )
    item(change_set, WEST, strip(105.90, 105.95))
    item(change_set, EAST, None)
    apply(approve(change_set), users.community)
    return west, east


def figures(key: str, period: Period) -> dict[int, int]:
    """A derived indicator of 一表通 for the grids valid on the period's last day."""
    on = min(period.last_day, today())
    grid_ids = list(Grid.objects.valid_on(on).values_list("pk", flat=True))
    values = derived.compute(key, derived.Context(period, grid_ids))
    return {pk: int(value) for pk, value in values.items() if value}


def test_the_retired_grid_exists_before_the_change_only(merged):
    west, east = merged
    assert set(
        Grid.objects.valid_on(D - dt.timedelta(days=1)).filter(pk__in=[west.pk, east.pk])
    ) == {west, east}
    assert list(Grid.objects.valid_on(D).filter(pk__in=[west.pk, east.pk])) == [west]


def test_rollup_before_the_change_counts_the_old_grids(tree, merged):
    west, east = merged
    community = tree.communities[(1, 1)].pk

    before = rollup(D - dt.timedelta(days=1))
    assert (before["grids"][west.pk].households, before["grids"][west.pk].residents) == (1, 4)
    assert (before["grids"][east.pk].households, before["grids"][east.pk].residents) == (2, 5)
    assert before["regions"][community].households == 3

    for day in (D, today()):
        after = rollup(day)
        assert east.pk not in after["grids"]
        assert (after["grids"][west.pk].households, after["grids"][west.pk].residents) == (3, 9)
        assert after["regions"][community].households == 3


def test_derived_households_and_residents_by_the_boundaries_of_the_period(merged):
    west, east = merged
    assert figures("households", BEFORE) == {west.pk: 1, east.pk: 2}
    assert figures("residents", BEFORE) == {west.pk: 4, east.pk: 5}
    for period in (AFTER, NOW):
        assert figures("households", period) == {west.pk: 3}
        assert figures("residents", period) == {west.pk: 9}


def test_incidents_are_counted_on_the_grid_they_were_reported_in(merged):
    west, east = merged
    # Both open incidents are keyed to the west grid now...
    assert set(Incident.objects.values_list("grid", flat=True)) == {west.pk}
    # ...but the one reported before D still counts where it was reported.
    assert figures("incidents_reported", BEFORE) == {east.pk: 1}
    assert figures("incidents_reported", AFTER) == {west.pk: 1}


def test_sensor_stock_of_a_past_day_by_the_boundaries_valid_then(merged):
    west, east = merged
    assert figures("sensors_smoke_detector", BEFORE) == {east.pk: 1}
    assert figures("sensors_smoke_detector", AFTER) == {west.pk: 1}
    assert figures("sensors_smoke_detector", NOW) == {west.pk: 1}
