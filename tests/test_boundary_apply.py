"""Applying an approved change set (issue #7): versions closed and opened from the change
set's day, new and retired grids, only the points in the changed area re-keyed (households
with history, sensors, open incidents; closed incidents never), open tasks and grid staff of
a merged-away grid handed to the survivor; stale or failing applies write nothing; the map
tiles of every layer keyed to grids refresh."""

from __future__ import annotations

import datetime as dt

import pytest
from boundary_apply_helpers import EAST, WEST, approve, at, item, strip

from boundaries.models import ChangeSet, Kind, Status
from boundaries.services import changesets, history
from boundaries.services.apply import apply
from grids.models import Grid, GridBoundary, Household, HouseholdGridHistory, Role, today
from grids.problems import ProblemsError
from grids.services import boundaries
from grids.services.boundaries import to_shapely
from grids.signals import grid_area_changed
from incidents.models import Incident, Task
from incidents.services import Report, report_incident
from incidents.services.tasks import create_visit_task
from maps import tiles
from sensors.services import registry
from sensors.services.registry import SensorSpec

# Households registered before the change: they have a past to keep.
SINCE = dt.date(2024, 6, 1)
# Between the old shared edge (105.925) and the new one of a reshape (105.935): east today,
# west after the west grid grows.
MOVING = 105.93


@pytest.fixture
def change_set(tree, users) -> ChangeSet:
    return changesets.create(
        user=users.worker, region=tree.communities[(1, 1)], title="调整网格边界"
    )


@pytest.fixture
def things(tree, users, catalogue, add_household):
    """A household, a smoke detector, an open and a closed incident at MOVING."""

    def incident(title):
        found, _ = report_incident(
            Report(title=title, category="T0101", source="patrol", location=at(MOVING)),
            user=users.admin,
        )
        return found

    closed = incident("已结案")
    Incident.objects.filter(pk=closed.pk).update(status="closed")
    opened = incident("井盖缺失")
    # Reported before the change: the grid it was reported in is kept for its period.
    Incident.objects.filter(pk=opened.pk).update(
        reported_at=dt.datetime(2024, 6, 1, 9, tzinfo=dt.UTC)
    )
    household = add_household(at(MOVING), address="移动户")
    Household.objects.filter(pk=household.pk).update(member_count=3, registered_on=SINCE)
    return {
        "household": household,
        "sensor": registry.create_sensor(
            SensorSpec(code="SMK-1", type="smoke_detector", location=at(MOVING))
        ),
        "open": opened,
        "closed": Incident.objects.get(pk=closed.pk),
    }


def grow_west(change_set):
    item(change_set, WEST, strip(105.90, 105.935))
    item(change_set, EAST, strip(105.935, 105.95))
    return approve(change_set)


def test_reshape_applied_moves_only_the_points_in_the_changed_area(
    tree, users, homes, things, change_set, django_capture_on_commit_callbacks
):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    grow_west(change_set)
    layers = ["grids", "households", "sensors", "incidents"]
    before = {layer: tiles.layer_version(layer) for layer in layers}

    with django_capture_on_commit_callbacks(execute=True):
        summary = apply(change_set, users.community)

    on = today()
    for grid in (west, east):
        versions = list(GridBoundary.objects.filter(grid=grid).order_by("valid_from", "id"))
        assert [(v.valid_from, v.valid_to) for v in versions] == [
            (dt.date(2024, 1, 1), on),
            (on, None),
        ]
        assert versions[-1].reason.startswith(f"#{change_set.pk} ")
        grid.refresh_from_db()
        assert grid.version == 2
    household = things["household"]
    household.refresh_from_db()
    assert household.grid_id == west.pk
    assert list(HouseholdGridHistory.objects.values_list("household", "grid", "valid_to")) == [
        (household.pk, east.pk, on)
    ]
    # The homes at the grids' centres lie outside the changed area: untouched.
    assert Household.objects.filter(grid=east).count() == 1
    things["sensor"].refresh_from_db()
    assert things["sensor"].grid_id == west.pk
    opened = Incident.objects.get(pk=things["open"].pk)
    assert (opened.grid_id, opened.reported_grid_id) == (west.pk, east.pk)
    assert opened.community_id == tree.communities[(1, 1)].pk
    closed = Incident.objects.get(pk=things["closed"].pk)
    assert (closed.grid_id, closed.reported_grid_id) == (east.pk, None)

    change_set.refresh_from_db()
    assert change_set.status == Status.APPLIED
    assert change_set.applied_by == users.community and change_set.applied_at is not None
    assert summary["moved"] == {
        "households": 1,
        "buildings": 0,
        "units": 0,
        "addresses": 0,
        "sensors": 1,
        "incidents": 1,
        "needs": 0,
        "providers": 0,
    }
    assert change_set.applied_summary["moved"] == summary["moved"]
    assert summary["impact"]["totals"]["residents"] == 3
    assert change_set.events.filter(action="applied", by=users.community).exists()
    after = {layer: tiles.layer_version(layer) for layer in layers}
    assert all(after[layer] != before[layer] for layer in layers), (before, after)


def test_split_creates_a_grid_with_the_change_sets_day(
    tree, users, homes, change_set, add_household
):
    east = tree.grids[(1, 1, 2)]
    day = today() - dt.timedelta(days=3)
    change_set.valid_from = day
    change_set.save(update_fields=["valid_from"])
    far_east = add_household(at(105.945), registered_on=SINCE)
    item(change_set, EAST, strip(105.925, 105.9375))
    item(change_set, "500118001001003", strip(105.9375, 105.95), name="新网格")
    approve(change_set)

    summary = apply(change_set, users.community)

    new = Grid.objects.get(code="500118001001003")
    assert (new.name, new.valid_from, new.valid_to, new.community) == (
        "新网格",
        day,
        None,
        tree.communities[(1, 1)],
    )
    assert list(GridBoundary.objects.filter(grid=new).values_list("valid_from", "valid_to")) == [
        (day, None)
    ]
    assert GridBoundary.objects.get(grid=east, valid_to=day).valid_from == dt.date(2024, 1, 1)
    far_east.refresh_from_db()
    assert far_east.grid_id == new.pk
    assert HouseholdGridHistory.objects.get(household=far_east).valid_to == day
    # The east grid's own home sits on the split line: the smaller code keeps it.
    homes[(1, 1, 2)].refresh_from_db()
    assert homes[(1, 1, 2)].grid_id == east.pk
    assert summary["created"] == ["500118001001003"]


def test_merge_hands_tasks_and_staff_of_the_retired_grid_to_the_survivor(
    tree, users, homes, make_user, change_set
):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    east_worker = make_user("east_worker", Role.GRID_WORKER, grid=east)
    east.workers.add(east_worker)
    east.leader = east_worker
    east.save()
    task = Task.objects.create(title="走访", kind="visit", grid=east, due_on=today())
    done = Task.objects.create(
        title="已完成", kind="visit", grid=east, due_on=today(), done_at="2024-05-01T00:00Z"
    )
    item(change_set, WEST, strip(105.90, 105.95))
    item(change_set, EAST, None)
    approve(change_set)

    summary = apply(change_set, users.community)

    east.refresh_from_db()
    assert east.valid_to == today() and east.version == 2
    assert not GridBoundary.objects.filter(grid=east, valid_to__isnull=True).exists()
    assert Grid.objects.current().filter(community=tree.communities[(1, 1)]).get() == west
    homes[(1, 1, 2)].refresh_from_db()
    assert homes[(1, 1, 2)].grid_id == west.pk
    task.refresh_from_db()
    done.refresh_from_db()
    assert (task.grid_id, done.grid_id) == (west.pk, east.pk)
    east_worker.refresh_from_db()
    west.refresh_from_db()
    assert east_worker.grid_id == west.pk
    assert east_worker in west.workers.all() and west.leader == east_worker
    # A task cannot be given to the retired grid any more: it would stay behind.
    with pytest.raises(ProblemsError) as excinfo:
        create_visit_task(east, title="迟到的任务", due_on=today(), user=users.community)
    assert [p.code for p in excinfo.value.problems] == ["grid_retired"]
    assert summary["moved"]["tasks"] == 1 and summary["moved"]["staff"] == 1
    assert summary["retired"] == [EAST]


def test_new_grid_in_ground_given_up(tree, users, homes, change_set, add_household):
    """Shrinking the west grid and drawing a new grid in the ground it gave up."""
    west = tree.grids[(1, 1, 1)]
    moved = add_household(at(105.92))
    item(change_set, WEST, strip(105.90, 105.915))
    item(change_set, "500118001001003", strip(105.915, 105.925))
    approve(change_set)

    apply(change_set, users.community)

    new = Grid.objects.get(code="500118001001003")
    moved.refresh_from_db()
    homes[(1, 1, 1)].refresh_from_db()
    assert moved.grid_id == new.pk
    assert homes[(1, 1, 1)].grid_id == west.pk  # 105.9125: still west


def test_retire_leaving_a_gap_unassigns_its_households(tree, users, homes, change_set):
    tree.district.full_coverage = False
    tree.district.save()
    east = tree.grids[(1, 1, 2)]
    item(change_set, EAST, None)
    approve(change_set)

    summary = apply(change_set, users.community)

    homes[(1, 1, 2)].refresh_from_db()
    assert homes[(1, 1, 2)].grid_id is None
    assert Household.objects.unassigned().count() == 1
    assert summary["retired"] == [EAST]
    east.refresh_from_db()
    assert east.valid_to == today()


def _nothing_written(change_set, homes, tree):
    change_set.refresh_from_db()
    assert change_set.status == Status.APPROVED and change_set.applied_at is None
    assert not GridBoundary.objects.filter(valid_from=today()).exists()
    assert not Grid.objects.filter(valid_to__isnull=False).exists()
    assert not HouseholdGridHistory.objects.exists()
    assert all(home.grid_id == Household.objects.get(pk=home.pk).grid_id for home in homes.values())
    assert Grid.objects.get(code=WEST).version == 1


def test_stale_at_apply_time_is_409_and_writes_nothing(tree, users, homes, things, change_set):
    grow_west(change_set)
    # Someone redraws the east grid after the approval (same boundary, a new version).
    east = tree.grids[(1, 1, 2)]
    boundaries.change_boundary(east, east.boundary_on(), valid_from=today())
    versions = GridBoundary.objects.count()

    with pytest.raises(ProblemsError) as refused:
        apply(change_set, users.community)

    assert refused.value.status_code == 409
    assert [(p.code, p.feature) for p in refused.value.problems] == [("stale", EAST)]
    assert GridBoundary.objects.count() == versions
    change_set.refresh_from_db()
    assert change_set.status == Status.APPROVED
    things["household"].refresh_from_db()
    assert things["household"].grid_id == east.pk


def test_a_receiver_failing_half_way_rolls_everything_back(tree, users, homes, things, change_set):
    grow_west(change_set)

    def broken(sender, **kwargs):
        raise RuntimeError("disk full")

    grid_area_changed.connect(broken, dispatch_uid="test_broken")
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            apply(change_set, users.community)
    finally:
        grid_area_changed.disconnect(dispatch_uid="test_broken")

    _nothing_written(change_set, homes, tree)
    things["household"].refresh_from_db()
    assert things["household"].grid_id == tree.grids[(1, 1, 2)].pk
    assert not Grid.objects.filter(valid_from=today()).exists()


@pytest.mark.parametrize(
    "who, status, code",
    [("worker", 403, "own_change_set"), ("other_worker", 403, "not_reviewer")],
)
def test_only_a_reviewer_other_than_the_author_applies(
    tree, users, homes, change_set, who, status, code
):
    grow_west(change_set)
    with pytest.raises(ProblemsError) as refused:
        apply(change_set, getattr(users, who))
    assert (refused.value.status_code, refused.value.problems[0].code) == (status, code)
    _nothing_written(change_set, homes, tree)


def test_only_an_approved_change_set_is_applied(tree, users, homes, change_set):
    item(change_set, WEST, strip(105.90, 105.935))
    item(change_set, EAST, strip(105.935, 105.95))
    with pytest.raises(ProblemsError) as refused:
        apply(change_set, users.community)
    assert (refused.value.status_code, refused.value.problems[0].code) == (409, "not_approved")


def test_validation_errors_at_apply_time_are_400(tree, users, homes, change_set):
    # Overlapping the east grid, which is left as it is.
    item(change_set, WEST, strip(105.90, 105.935))
    approve(change_set)
    with pytest.raises(ProblemsError) as refused:
        apply(change_set, users.community)
    assert refused.value.status_code == 400
    assert "overlap" in {p.code for p in refused.value.problems}
    _nothing_written(change_set, homes, tree)


def test_history_and_restore_an_earlier_version(tree, users, homes, things, change_set):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    grow_west(change_set)
    apply(change_set, users.community)

    versions = history.history(west)

    assert [(v["valid_from"], v["valid_to"], v["current"]) for v in versions] == [
        (today(), None, True),
        (dt.date(2024, 1, 1), today(), False),
    ]
    assert [v["change_set"] for v in versions] == [change_set.pk, None]
    assert versions[0]["reason"] == f"#{change_set.pk} 调整网格边界"
    # 0.035 x 0.05 degrees at 29.3 N, about 3.4 km x 5.5 km.
    assert 1.8e7 < versions[0]["area_m2"] < 2.0e7
    assert versions[1]["geometry"]["type"] == "MultiPolygon"

    old = GridBoundary.objects.get(pk=versions[1]["id"])
    restoring = history.restore(user=users.community, version=old)

    assert (restoring.kind, restoring.status, restoring.author) == (
        Kind.RESTORE,
        Status.DRAFT,
        users.community,
    )
    proposed = {i.code: to_shapely(i.geom) for i in restoring.items.all()}
    assert set(proposed) == {WEST, EAST}
    assert proposed[WEST].equals(strip(105.90, 105.925))
    assert proposed[EAST].equals(strip(105.925, 105.95))  # the neighbour gets its ground back

    changesets.submit(restoring, users.community)
    changesets.approve(restoring, users.street)
    apply(restoring, users.street)

    assert to_shapely(west.boundary_on()).equals(strip(105.90, 105.925))
    assert len(history.history(west)) == 3
    things["household"].refresh_from_db()
    assert things["household"].grid_id == east.pk


def test_the_current_version_cannot_be_restored(tree, users):
    current = GridBoundary.objects.get(grid=tree.grids[(1, 1, 1)], valid_to__isnull=True)
    with pytest.raises(ProblemsError) as refused:
        history.restore(user=users.community, version=current)
    assert refused.value.problems[0].code == "nothing_to_restore"
