"""Editing a change set (#7): reshape with neighbour adjustment, split, merge, new grids,
retire/rename/revert, undo/redo across sessions, and every bad input refused with nothing
written. Community (1, 1): WEST is lon 105.90-105.925, EAST 105.925-105.95, lat 29.30-29.35."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from django.conf import settings
from django.utils import timezone

from boundaries.models import ChangeSet, ChangeSetItem, Status
from boundaries.services import changesets, editing
from boundaries.services.geometry import area_m2
from grids.models import Grid, GridBoundary
from grids.problems import ProblemsError
from grids.services import boundaries as grid_boundaries
from tests.boundary_fixtures import (
    C11,
    EAST,
    NORTH_WEST,
    WEST,
    box,
    coverage,
    expire,
    geojson,
    line,
    proposed_geoms,
    west_grown,
)

SLIVER = settings.GRIDLINE_SLIVER_M2


def refused(excinfo) -> tuple[int, list[str]]:
    error = excinfo.value
    return getattr(error, "status_code", 400), [p.code for p in error.problems]


def assert_tiles(change_set, community) -> None:
    """The proposed grids cover the community: no gap, no overlap, nothing outside (beyond
    rounding slivers)."""
    found = coverage(change_set, community)
    assert found["gap"] < SLIVER, found
    assert found["overlap"] < SLIVER, found
    assert found["outside"] < SLIVER, found


def items(change_set) -> dict[str, ChangeSetItem]:
    return {item.code: item for item in ChangeSetItem.objects.filter(change_set=change_set)}


def same(a, b) -> bool:
    return area_m2(a.symmetric_difference(b)) < SLIVER


# --- reshape --------------------------------------------------------------------------------


def test_reshape_moves_the_shared_edge_and_the_neighbour_loses_the_ground(tree, users, draft):
    step = editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown(0.005)))

    geoms = proposed_geoms(draft)
    assert same(geoms[WEST], box(105.90, 29.30, 105.93, 29.35))
    assert same(geoms[EAST], box(105.93, 29.30, 105.95, 29.35))
    assert_tiles(draft, tree.communities[(1, 1)])
    # The shared edge has the very same vertices on both sides: they only touch.
    assert geoms[WEST].intersection(geoms[EAST]).area == 0
    found = items(draft)
    assert set(found) == {WEST, EAST}
    assert found[WEST].base_version == tree.grids[(1, 1, 1)].version
    assert (step.operation, step.number, step.before) == ("reshape", 1, {WEST: None, EAST: None})
    assert set(step.after) == {WEST, EAST}
    draft.refresh_from_db()
    assert (draft.position, draft.version) == (1, 2)


def test_ground_given_up_goes_to_the_neighbour_with_the_longest_border(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(box(105.90, 29.30, 105.92, 29.35)))

    geoms = proposed_geoms(draft)
    assert same(geoms[EAST], box(105.92, 29.30, 105.95, 29.35))
    assert_tiles(draft, tree.communities[(1, 1)])


def test_ground_given_up_that_touches_no_sibling_stays_a_gap(tree, users, draft):
    # The west strip borders only another street's ... nothing of this community: a gap.
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(box(105.905, 29.30, 105.925, 29.35))
    )

    geoms = proposed_geoms(draft)
    assert same(geoms[EAST], box(105.925, 29.30, 105.95, 29.35))
    assert EAST not in items(draft)
    found = coverage(draft, tree.communities[(1, 1)])
    assert found["gap"] == pytest.approx(area_m2(box(105.90, 29.30, 105.905, 29.35)), rel=1e-6)
    assert found["overlap"] < SLIVER


def test_reshape_never_changes_grids_of_another_community(tree, users, draft):
    # Drawn 0.001° into community (1, 2): validation's business, not a neighbour adjustment.
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(box(105.90, 29.30, 105.925, 29.351))
    )

    assert set(items(draft)) == {WEST}
    assert NORTH_WEST not in items(draft)
    assert coverage(draft, tree.communities[(1, 1)])["outside"] > 1000


def test_reshape_without_adjusting_leaves_the_neighbours_as_they_are(tree, users, draft):
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(west_grown()), adjust_neighbours=False
    )

    assert set(items(draft)) == {WEST}
    assert coverage(draft, tree.communities[(1, 1)])["overlap"] > 1000


def test_a_reshape_that_swallows_a_sibling_is_refused(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(
            draft, users.worker, code=WEST, geom=geojson(box(105.90, 29.30, 105.95, 29.35))
        )

    assert refused(excinfo) == (400, ["swallows_grid"])
    assert EAST in str(excinfo.value)
    assert not items(draft)


def test_a_self_intersecting_ring_is_refused_naming_the_grid_and_where(tree, users, draft):
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[105.90, 29.30], [105.93, 29.35], [105.93, 29.30], [105.90, 29.35], [105.90, 29.30]]
        ],
    }
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.worker, code=WEST, geom=bow_tie)

    assert refused(excinfo) == (400, ["invalid_geometry"])
    (problem,) = excinfo.value.problems
    assert problem.feature == WEST
    assert problem.location == pytest.approx((105.915, 29.325))
    assert not items(draft)
    draft.refresh_from_db()
    assert (draft.version, draft.position) == (1, 0)


def test_an_unknown_grid_is_refused(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.worker, code="500118002001001", geom=geojson(west_grown()))
    assert refused(excinfo) == (400, ["unknown_grid"])


# --- split ----------------------------------------------------------------------------------


def test_split_keeps_the_largest_part_and_makes_a_new_grid(tree, users, draft):
    step = editing.split(
        draft, users.worker, code=WEST, line=line((105.89, 29.33), (105.93, 29.33))
    )

    geoms = proposed_geoms(draft)
    new = "500118001001003"
    assert same(geoms[WEST], box(105.90, 29.30, 105.925, 29.33))
    assert same(geoms[new], box(105.90, 29.33, 105.925, 29.35))
    assert items(draft)[new].grid is None
    assert step.after[new]["grid"] is None
    assert_tiles(draft, tree.communities[(1, 1)])


def test_split_along_a_slanted_line_keeps_the_tiling(tree, users, draft):
    editing.split(draft, users.worker, code=EAST, line=line((105.92, 29.301), (105.96, 29.3437)))
    assert_tiles(draft, tree.communities[(1, 1)])
    assert len([g for g in proposed_geoms(draft).values() if g is not None]) == 3


@pytest.mark.parametrize(
    "cut",
    [
        ((105.91, 29.32), (105.92, 29.33)),  # inside the grid, from no edge to no edge
        ((105.91, 29.20), (105.92, 29.25)),  # nowhere near it
        ((105.89, 29.32), (105.91, 29.32)),  # in from one edge only
    ],
)
def test_a_split_line_that_does_not_cross_the_grid_is_refused(tree, users, draft, cut):
    with pytest.raises(ProblemsError) as excinfo:
        editing.split(draft, users.worker, code=WEST, line=line(*cut))
    assert refused(excinfo) == (400, ["split_line_does_not_cross"])
    assert not items(draft)


# --- merge ----------------------------------------------------------------------------------


def test_merge_joins_adjacent_grids_and_retires_the_others(tree, users, draft):
    editing.merge(draft, users.worker, codes=[WEST, EAST])

    geoms = proposed_geoms(draft)
    assert same(geoms[WEST], box(105.90, 29.30, 105.95, 29.35))
    assert geoms[EAST] is None
    assert items(draft)[EAST].action == "retire"
    assert_tiles(draft, tree.communities[(1, 1)])


def test_merge_keeps_the_chosen_grid(tree, users, draft):
    editing.merge(draft, users.worker, codes=[WEST, EAST], keep=EAST)
    geoms = proposed_geoms(draft)
    assert geoms[WEST] is None
    assert_tiles(draft, tree.communities[(1, 1)])


def test_merge_of_grids_of_different_communities_is_refused(tree, users):
    street = changesets.create(user=users.street, region=tree.streets[1], title="街道重划")
    with pytest.raises(ProblemsError) as excinfo:
        editing.merge(street, users.street, codes=[WEST, NORTH_WEST])
    assert refused(excinfo) == (400, ["merge_different_communities"])


def test_merge_of_grids_touching_at_a_corner_only_is_refused(tree, users, draft):
    editing.split(draft, users.worker, code=WEST, line=line((105.89, 29.33), (105.93, 29.33)))
    editing.split(draft, users.worker, code=EAST, line=line((105.92, 29.33), (105.96, 29.33)))
    north_east = "500118001001004"
    assert same(proposed_geoms(draft)[north_east], box(105.925, 29.33, 105.95, 29.35))

    with pytest.raises(ProblemsError) as excinfo:
        editing.merge(draft, users.worker, codes=[WEST, north_east])
    assert refused(excinfo) == (400, ["merge_not_touching"])


def test_a_merge_of_new_grids_drops_them(tree, users, draft):
    editing.split(draft, users.worker, code=WEST, line=line((105.89, 29.33), (105.93, 29.33)))
    editing.merge(draft, users.worker, codes=[WEST, "500118001001003"])

    assert set(items(draft)) == set()  # back to the grid as it is today: nothing to keep
    assert_tiles(draft, tree.communities[(1, 1)])


# --- new grids, codes -----------------------------------------------------------------------


def test_a_new_grid_takes_only_uncovered_ground(tree, users, draft):
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(box(105.905, 29.30, 105.925, 29.35))
    )
    # Drawn generously over the gap, a neighbour and another community: only the gap is kept.
    step = editing.add_grid(draft, users.worker, geom=geojson(box(105.899, 29.30, 105.91, 29.36)))

    new = "500118001001003"
    assert step.operation == "add"
    assert same(proposed_geoms(draft)[new], box(105.90, 29.30, 105.905, 29.35))
    assert items(draft)[new].community == tree.communities[(1, 1)]
    assert_tiles(draft, tree.communities[(1, 1)])


def test_a_new_grid_over_covered_ground_is_refused(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        editing.add_grid(draft, users.worker, geom=geojson(box(105.91, 29.31, 105.92, 29.32)))
    assert refused(excinfo) == (400, ["no_uncovered_ground"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("500118001001", "bad_code"),
        ("500118001002009", "code_not_under_parent"),
        ("500118001001002", "duplicate_code"),
    ],
)
def test_a_new_grid_code_must_follow_the_scheme(tree, users, draft, code, expected):
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(box(105.905, 29.30, 105.925, 29.35))
    )
    with pytest.raises(ProblemsError) as excinfo:
        editing.add_grid(
            draft, users.worker, geom=geojson(box(105.90, 29.30, 105.905, 29.35)), code=code
        )
    assert refused(excinfo) == (400, [expected])


def test_next_code_never_reuses_a_retired_code(tree, users, draft):
    community = tree.communities[(1, 1)]
    assert editing.next_code(community, draft) == "500118001001003"
    Grid.objects.create(
        code="500118001001007",
        name="旧网格",
        community=community,
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2023, 1, 1),
    )
    assert editing.next_code(community, draft) == "500118001001008"
    editing.split(draft, users.worker, code=WEST, line=line((105.89, 29.33), (105.93, 29.33)))
    assert "500118001001008" in proposed_geoms(draft)
    assert editing.next_code(community, draft) == "500118001001009"


# --- set geometry, retire, rename, revert ---------------------------------------------------


def test_set_geometry_replaces_as_given(tree, users, draft):
    editing.set_geometry(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert set(items(draft)) == {WEST}
    assert same(proposed_geoms(draft)[WEST], west_grown())


def test_retire_rename_and_revert(tree, users, draft):
    editing.retire(draft, users.worker, code=EAST)
    assert proposed_geoms(draft)[EAST] is None

    editing.rename(draft, users.worker, code=WEST, name="滨河网格")
    assert items(draft)[WEST].name == "滨河网格"
    assert items(draft)[WEST].action == "reshape"

    editing.revert(draft, users.worker, code=EAST)
    assert EAST not in items(draft)
    assert same(proposed_geoms(draft)[EAST], box(105.925, 29.30, 105.95, 29.35))

    with pytest.raises(ProblemsError) as excinfo:
        editing.revert(draft, users.worker, code=EAST)
    assert refused(excinfo) == (400, ["nothing_to_revert"])


def test_redrawing_a_grid_as_it_is_leaves_no_item(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(box(105.90, 29.30, 105.925, 29.35))
    )
    assert not items(draft)
    assert draft.position == 2


# --- undo / redo ----------------------------------------------------------------------------


def test_undo_and_redo_work_across_sessions(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    editing.split(draft, users.worker, code=EAST, line=line((105.92, 29.33), (105.96, 29.33)))
    after_both = proposed_geoms(draft)

    # A later session: a fresh instance from the database.
    later = ChangeSet.objects.get(pk=draft.pk)
    editing.undo(later, users.worker)
    assert "500118001001003" not in proposed_geoms(later)
    editing.undo(later, users.worker)
    assert not items(later)
    assert later.position == 0
    with pytest.raises(ProblemsError) as excinfo:
        editing.undo(later, users.worker)
    assert refused(excinfo) == (400, ["nothing_to_undo"])

    again = ChangeSet.objects.get(pk=draft.pk)
    editing.redo(again, users.worker)
    editing.redo(again, users.worker)
    redone = proposed_geoms(again)
    assert set(redone) == set(after_both)
    assert all(same(redone[code], geom) for code, geom in after_both.items())
    with pytest.raises(ProblemsError) as excinfo:
        editing.redo(again, users.worker)
    assert refused(excinfo) == (400, ["nothing_to_redo"])
    assert editing.can_undo(again) and not editing.can_redo(again)


def test_a_new_edit_drops_the_redo_steps(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    editing.rename(draft, users.worker, code=EAST, name="东区")
    editing.undo(draft, users.worker)
    editing.undo(draft, users.worker)
    assert editing.can_redo(draft)

    editing.retire(draft, users.worker, code=EAST)

    assert list(draft.steps.values_list("number", "operation")) == [(1, "retire")]
    with pytest.raises(ProblemsError) as excinfo:
        editing.redo(draft, users.worker)
    assert refused(excinfo) == (400, ["nothing_to_redo"])


# --- who, when, on what ---------------------------------------------------------------------


def test_only_the_author_may_edit(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.community, code=WEST, geom=geojson(west_grown()))
    assert refused(excinfo) == (403, ["not_author"])
    with pytest.raises(ProblemsError) as excinfo:
        editing.undo(draft, users.admin)
    assert refused(excinfo) == (403, ["not_author"])
    assert not items(draft)


def test_an_expired_lock_stops_editing_until_extended(tree, users, draft):
    expire(draft)
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert refused(excinfo) == (409, ["lock_expired"])

    changesets.extend_lock(draft, users.worker)
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert set(items(draft)) == {WEST, EAST}


def test_every_edit_renews_the_lock(tree, users, draft):
    ChangeSet.objects.filter(pk=draft.pk).update(
        lock_expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    draft.refresh_from_db()
    assert draft.lock_expires_at > timezone.now() + dt.timedelta(hours=23)


def test_a_submitted_change_set_cannot_be_edited(tree, users, draft):
    ChangeSet.objects.filter(pk=draft.pk).update(status=Status.SUBMITTED)
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert refused(excinfo) == (409, ["not_editable"])


def test_an_edit_on_an_old_version_of_the_change_set_is_refused(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()), expected_version=1)
    assert draft.version == 2
    with pytest.raises(ProblemsError) as excinfo:
        editing.rename(draft, users.worker, code=EAST, name="东区", expected_version=1)
    assert refused(excinfo) == (409, ["changeset_version"])
    assert items(draft)[EAST].name != "东区"


def test_a_grid_held_by_another_change_set_conflicts(tree, users, draft, rival):
    editing.rename(rival, users.community, code=EAST, name="东区")

    # Directly, or through the neighbour adjustment of a reshape.
    with pytest.raises(ProblemsError) as excinfo:
        editing.retire(draft, users.worker, code=EAST)
    assert refused(excinfo) == (409, ["conflict"])
    with pytest.raises(ProblemsError) as excinfo:
        editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    status, codes = refused(excinfo)
    assert (status, codes) == (409, ["conflict"])
    message = excinfo.value.problems[0].message
    assert f"#{rival.pk}" in message and rival.title in message and "community" in message
    assert EAST in message
    assert not items(draft)

    # Once the other change set is withdrawn the grid is free.
    changesets.withdraw(rival, users.community)
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert set(items(draft)) == {WEST, EAST}


def test_an_expired_draft_holds_nothing(tree, users, draft, rival):
    editing.rename(rival, users.community, code=EAST, name="东区")
    expire(rival)
    editing.retire(draft, users.worker, code=EAST)
    assert EAST in items(draft)
    # The other author comes back: their grid is taken meanwhile.
    with pytest.raises(ProblemsError) as excinfo:
        changesets.extend_lock(rival, users.community)
    assert refused(excinfo) == (409, ["conflict"])


def test_a_grid_changed_since_the_draft_touched_it_is_stale(tree, users, draft):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    assert changesets.stale(draft) == []
    east = tree.grids[(1, 1, 2)]
    grid_boundaries.change_boundary(
        east, box(105.925, 29.30, 105.95, 29.349), valid_from=dt.date(2024, 6, 1)
    )

    problems = changesets.stale(draft)
    assert [(p.code, p.feature) for p in problems] == [("stale", EAST)]
    # Redrawing it does not make it current; reverting it does.
    editing.rename(draft, users.worker, code=EAST, name="东区")
    assert [p.code for p in changesets.stale(draft)] == ["stale"]
    editing.revert(draft, users.worker, code=EAST)
    assert changesets.stale(draft) == []
    assert GridBoundary.objects.filter(grid=east).count() == 2


def test_a_zigzag_edge_is_shared_exactly_by_both_grids(tree, users, draft):
    # An east edge of many odd vertices, as drawn on a map, partly into EAST and partly
    # giving ground up to it.
    ys = [29.30 + i * 0.05 / 17 for i in range(18)]
    edge = [(105.925 + (0.0031 if i % 2 else -0.0027) * (i % 5) / 4, y) for i, y in enumerate(ys)]
    edge[0], edge[-1] = (105.925, 29.30), (105.925, 29.35)
    drawn = shapely.Polygon([(105.90, 29.30), *edge, (105.90, 29.35)])
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(drawn))

    geoms = proposed_geoms(draft)
    assert_tiles(draft, tree.communities[(1, 1)])
    # Not merely close: the two sides of the edge are the same numbers, so the grids meet
    # along lines and share no area at all.
    assert geoms[WEST].intersection(geoms[EAST]).area == 0
    assert geoms[WEST].union(geoms[EAST]).equals(shapely.box(*C11))
    # Rounding the drawn vertices to the millimetre grid moves a few m² over 13 km².
    assert area_m2(geoms[WEST].symmetric_difference(drawn)) < 1e-6 * area_m2(drawn)


def test_redo_onto_a_grid_another_change_set_took_meanwhile_conflicts(tree, users, draft, rival):
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    editing.undo(draft, users.worker)
    # Undone, the draft holds EAST no more: the other change set may take it.
    editing.rename(rival, users.community, code=EAST, name="东区")

    with pytest.raises(ProblemsError) as excinfo:
        editing.redo(draft, users.worker)
    assert refused(excinfo) == (409, ["conflict"])
    draft.refresh_from_db()
    assert (draft.position, set(items(draft))) == (0, set())


def test_a_grid_name_must_not_be_empty(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        editing.rename(draft, users.worker, code=WEST, name="  ")
    assert refused(excinfo) == (400, ["bad_name"])
