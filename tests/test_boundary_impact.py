"""The impact preview (issue #7): what a change set would move, per old -> new grid, found
only inside the changed area, with the changed pieces of ground for the map."""

from __future__ import annotations

import pytest
from boundary_apply_helpers import EAST, WEST, approve, at, item, strip

from boundaries.services import changesets
from boundaries.services.apply import apply
from boundaries.services.impact import preview
from grids import keyed
from grids.models import Household, today
from incidents.models import Task
from incidents.services import Report, report_incident
from sensors.services import registry
from sensors.services.registry import SensorSpec

NEW = "500118001001003"


@pytest.fixture
def change_set(tree, users):
    return changesets.create(user=users.worker, region=tree.communities[(1, 1)], title="预览")


@pytest.fixture
def crowd(tree, users, catalogue, homes, add_household):
    """Between 105.925 and 105.935 (east today): two households of 2 and 5 residents, a
    sensor, an open and a closed incident. Far east (105.945): one household of 1."""
    placed = []
    for members in (2, 5):
        household = add_household(at(105.93, 29.31 + members / 1000))
        Household.objects.filter(pk=household.pk).update(member_count=members)
        placed.append(household)
    far = add_household(at(105.945))
    Household.objects.filter(pk=far.pk).update(member_count=1)
    registry.create_sensor(SensorSpec(code="SMK-1", type="smoke_detector", location=at(105.93)))
    for title in ("开", "关"):
        found, _ = report_incident(
            Report(title=title, category="T0101", source="patrol", location=at(105.931)),
            user=users.admin,
        )
    found.status = "closed"
    found.save(update_fields=["status"])
    return placed


def rows_by_pair(result):
    return {(row["from"], row["to"]): row for row in result["rows"]}


def test_every_kind_is_registered():
    keys = {k.key for k in keyed.all_keyed()}
    assert {"households", "residents", "sensors", "incidents", "tasks"} <= keys


def test_reshape_counts_what_moves_from_east_to_west(
    change_set, crowd, django_assert_max_num_queries
):
    item(change_set, WEST, strip(105.90, 105.935))
    item(change_set, EAST, strip(105.935, 105.95))

    # The region and its proposed state (4), the temporary table (7 with its savepoint),
    # one statement per kind of located rows (4); rows following their grid are not asked
    # for when no grid is retired. However many grids and points: it does not grow.
    with django_assert_max_num_queries(15):
        result = preview(change_set)

    rows = rows_by_pair(result)
    assert set(rows) == {(EAST, WEST)}
    assert rows[(EAST, WEST)] == {
        "from": EAST,
        "to": WEST,
        "households": 2,
        "residents": 7,
        "buildings": 0,
        "units": 0,
        "addresses": 0,
        "sensors": 1,
        "incidents": 1,
        "needs": 0,
        "providers": 0,
        "tasks": 0,
    }
    assert result["totals"]["households"] == 2 and result["totals"]["residents"] == 7
    (piece,) = result["areas"]["features"]
    assert piece["properties"]["from"] == EAST and piece["properties"]["to"] == WEST
    # 0.01 degree of longitude by 0.05 of latitude at 29.3 N: about 0.97 km x 5.5 km.
    assert 5.2e6 < piece["properties"]["area_m2"] < 5.6e6
    assert piece["geometry"]["type"] == "MultiPolygon"


def test_split_counts_what_goes_to_the_new_grid(change_set, crowd):
    item(change_set, EAST, strip(105.925, 105.9375))
    item(change_set, NEW, strip(105.9375, 105.95))

    rows = rows_by_pair(preview(change_set))

    assert set(rows) == {(EAST, NEW)}
    assert rows[(EAST, NEW)]["households"] == 1  # the far-east one; the home is on the line
    assert rows[(EAST, NEW)]["residents"] == 1


def test_merge_sends_tasks_of_the_retired_grid_to_the_survivor(tree, change_set, crowd):
    east = tree.grids[(1, 1, 2)]
    Task.objects.create(title="走访", kind="visit", grid=east, due_on=today())
    Task.objects.create(
        title="已完成", kind="visit", grid=east, due_on=today(), done_at="2024-05-01T00:00Z"
    )
    item(change_set, WEST, strip(105.90, 105.95))
    item(change_set, EAST, None)

    result = preview(change_set)

    row = rows_by_pair(result)[(EAST, WEST)]
    # The home at the east grid's centre, the two between and the far-east one.
    assert (row["households"], row["residents"], row["tasks"]) == (4, 8, 1)
    assert row["incidents"] == 1 and row["sensors"] == 1


def test_retire_into_a_gap(tree, change_set, crowd):
    item(change_set, EAST, None)

    result = preview(change_set)

    rows = rows_by_pair(result)
    assert rows[(EAST, None)]["households"] == 4
    (piece,) = result["areas"]["features"]
    assert piece["properties"]["to"] is None


def test_nothing_changed_moves_nothing(change_set, crowd):
    result = preview(change_set)
    assert result["rows"] == [] and result["areas"]["features"] == []
    assert set(result["totals"].values()) == {0}


def test_preview_counts_what_the_apply_moves_near_the_new_edge(tree, users, change_set, crowd):
    """An open incident about 10 m west of the new edge (105.935) stays in the east grid: the
    apply keeps an incident within GRIDLINE_INCIDENT_EDGE_M of its grid's new boundary (near
    an edge the reporter confirmed the grid), and the preview counts it as staying too."""
    near_edge, _ = report_incident(
        Report(title="近边界", category="T0101", source="patrol", location=at(105.9349)),
        user=users.admin,
    )
    item(change_set, WEST, strip(105.90, 105.935))
    item(change_set, EAST, strip(105.935, 105.95))

    counted = preview(change_set)["totals"]
    summary = apply(approve(change_set), users.community)

    # Moving: the open incident of `crowd` at 105.931, 0.4 km from the new edge.
    assert counted["incidents"] == summary["moved"]["incidents"] == 1
    assert counted["households"] == summary["moved"]["households"] == 2
    assert counted["sensors"] == summary["moved"]["sensors"] == 1
    near_edge.refresh_from_db()
    assert near_edge.grid == tree.grids[(1, 1, 2)]
