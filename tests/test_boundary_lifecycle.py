"""The life of a change set (#7): who may author and review, the author's lock (extend, take
over), submit -> approve or return -> withdraw, each refused with its status and code, and
the approval trail. Community (1, 1) is redrawn by its west grid's worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from boundaries.models import ChangeSet, Status
from boundaries.services import changesets, editing
from grids.models import Role
from grids.problems import ProblemsError
from grids.services import boundaries as grid_boundaries
from tests.boundary_fixtures import EAST, WEST, box, expire, geojson, west_grown


def refused(excinfo) -> tuple[int, list[str]]:
    error = excinfo.value
    return getattr(error, "status_code", 400), [p.code for p in error.problems]


def events(change_set) -> list[tuple[str, str]]:
    return [(e.action, e.by.username) for e in change_set.events.select_related("by")]


@pytest.fixture
def drawn(users, draft) -> ChangeSet:
    """The draft with the shared edge of WEST and EAST moved 0.005° east: valid."""
    editing.reshape(draft, users.worker, code=WEST, geom=geojson(west_grown()))
    return draft


@pytest.fixture
def submitted(users, drawn) -> ChangeSet:
    return changesets.submit(drawn, users.worker)


# --- who ------------------------------------------------------------------------------------


def test_who_may_author_a_change_set(tree, users, make_user):
    c11, c21, street1 = tree.communities[(1, 1)], tree.communities[(2, 1)], tree.streets[1]
    may = {
        name: (
            changesets.can_author(user, c11),
            changesets.can_author(user, c21),
            changesets.can_author(user, street1),
        )
        for name, user in vars(users).items()
    }
    assert may == {
        "admin": (True, True, True),
        "district": (True, True, True),
        "street": (True, False, True),
        "community": (True, False, False),
        "worker": (True, False, False),
        "other_worker": (False, False, False),
        "department": (False, False, False),
    }
    inactive = make_user("gone", Role.ADMINISTRATOR)
    inactive.is_active = False
    assert not changesets.can_author(inactive, c11)


def test_who_may_review_a_change_set(tree, users, draft, make_user):
    other_street = make_user("street2", Role.STREET_CENTRE, region=tree.streets[2])
    may = {name: changesets.can_review(user, draft) for name, user in vars(users).items()}
    assert may == {
        "admin": True,
        "district": True,
        "street": True,
        "community": True,
        "worker": False,  # the author
        "other_worker": False,
        "department": False,
    }
    assert not changesets.can_review(other_street, draft)

    # Separation of duties: the community's own staff may not review what they drew.
    own = changesets.create(user=users.community, region=tree.communities[(1, 1)], title="自审")
    assert not changesets.can_review(users.community, own)
    assert changesets.can_review(users.street, own)


def test_a_street_change_set_is_reviewed_above_its_communities(tree, users, make_user):
    whole = changesets.create(user=users.admin, region=tree.streets[1], title="街道整体重划")
    assert changesets.can_review(users.street, whole)
    assert changesets.can_review(users.district, whole)
    assert not changesets.can_review(users.community, whole)


# --- create ---------------------------------------------------------------------------------


def test_create_makes_a_draft_locked_to_its_author(tree, users):
    before = timezone.now()
    change_set = changesets.create(
        user=users.worker,
        region=tree.communities[(1, 1)],
        title="  调整 ",
        valid_from=dt.date(2024, 3, 1),
    )
    assert (change_set.status, change_set.title, change_set.author) == (
        Status.DRAFT,
        "调整",
        users.worker,
    )
    assert change_set.locked
    assert dt.timedelta(hours=23.9) < change_set.lock_expires_at - before < dt.timedelta(hours=24.1)
    assert events(change_set) == [("created", "worker")]
    assert changesets.permissions(change_set, users.worker)["edit"]
    assert not changesets.permissions(change_set, users.community)["edit"]


@pytest.mark.parametrize("who", ["department", "other_worker"])
def test_create_outside_ones_jurisdiction_is_forbidden(tree, users, who):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.create(user=getattr(users, who), region=tree.communities[(1, 1)], title="x")
    assert refused(excinfo) == (403, ["not_allowed"])
    assert not ChangeSet.objects.exists()


def test_create_refuses_bad_input_all_at_once(tree, users):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.create(
            user=users.admin,
            region=tree.district,
            title=" ",
            valid_from=timezone.localdate() + dt.timedelta(days=3),
        )
    assert refused(excinfo) == (400, ["bad_region", "title_required", "future_date"])
    with pytest.raises(ProblemsError) as excinfo:
        changesets.create(
            user=users.admin,
            region=tree.communities[(1, 1)],
            title="回溯",
            valid_from=dt.date(2023, 1, 1),
        )
    assert refused(excinfo) == (400, ["before_current_version"])
    assert not ChangeSet.objects.exists()


# --- the lock -------------------------------------------------------------------------------


def test_only_the_author_extends_the_lock(tree, users, draft):
    expire(draft)
    with pytest.raises(ProblemsError) as excinfo:
        changesets.extend_lock(draft, users.community)
    assert refused(excinfo) == (403, ["not_author"])

    extended = changesets.extend_lock(draft, users.worker)
    assert extended.locked
    assert events(extended)[-1] == ("lock_extended", "worker")


def test_an_expired_draft_can_be_taken_over(tree, users, drawn):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.take_over(drawn, users.community)
    assert refused(excinfo) == (409, ["locked"])

    expire(drawn)
    with pytest.raises(ProblemsError) as excinfo:
        changesets.take_over(drawn, users.other_worker)
    assert refused(excinfo) == (403, ["not_allowed"])
    assert changesets.permissions(drawn, users.community)["take_over"]

    taken = changesets.take_over(drawn, users.community)
    assert (taken.author, taken.locked) == (users.community, True)
    assert events(taken)[-1] == ("taken_over", "community")
    # The new author edits; the old one may not any more.
    editing.rename(taken, users.community, code=EAST, name="东区")
    with pytest.raises(ProblemsError) as excinfo:
        editing.undo(taken, users.worker)
    assert refused(excinfo) == (403, ["not_author"])


def test_taking_over_a_draft_whose_grids_were_taken_meanwhile_conflicts(tree, users, drawn):
    expire(drawn)
    other = changesets.create(user=users.street, region=tree.communities[(1, 1)], title="抢先")
    editing.rename(other, users.street, code=WEST, name="西区")
    with pytest.raises(ProblemsError) as excinfo:
        changesets.take_over(drawn, users.community)
    assert refused(excinfo) == (409, ["conflict"])


# --- submit, approve, return, withdraw ------------------------------------------------------


def test_submit_then_approve(tree, users, drawn):
    submitted = changesets.submit(drawn, users.worker)
    assert (submitted.status, submitted.submitted_at is not None) == (Status.SUBMITTED, True)
    with pytest.raises(ProblemsError) as excinfo:
        editing.rename(submitted, users.worker, code=EAST, name="东区")
    assert refused(excinfo) == (409, ["not_editable"])

    approved = changesets.approve(submitted, users.community, comment="同意")
    assert (approved.status, approved.reviewed_by, approved.comment) == (
        Status.APPROVED,
        users.community,
        "同意",
    )
    assert events(approved) == [
        ("created", "worker"),
        ("submitted", "worker"),
        ("approved", "community"),
    ]
    assert changesets.permissions(approved, users.community)["apply"]
    assert not changesets.permissions(approved, users.worker)["apply"]


def test_an_empty_change_set_cannot_be_submitted(tree, users, draft):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.submit(draft, users.worker)
    assert refused(excinfo) == (400, ["nothing_changed"])


def test_submit_is_refused_with_the_validation_errors(tree, users, draft):
    editing.reshape(
        draft, users.worker, code=WEST, geom=geojson(west_grown()), adjust_neighbours=False
    )
    with pytest.raises(ProblemsError) as excinfo:
        changesets.submit(draft, users.worker)
    status, codes = refused(excinfo)
    assert status == 400 and "overlap" in codes
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_only_the_author_submits(tree, users, drawn):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.submit(drawn, users.community)
    assert refused(excinfo) == (403, ["not_author"])


def test_a_stale_change_set_cannot_be_submitted_or_approved(tree, users, drawn):
    grid_boundaries.change_boundary(
        tree.grids[(1, 1, 2)],
        box(105.925, 29.30, 105.95, 29.349),
        valid_from=dt.date(2024, 6, 1),
    )
    with pytest.raises(ProblemsError) as excinfo:
        changesets.submit(drawn, users.worker)
    assert refused(excinfo) == (409, ["stale"])


def test_a_change_set_that_went_stale_after_submission_is_not_approved(tree, users, submitted):
    grid_boundaries.change_boundary(
        tree.grids[(1, 1, 1)],
        box(105.90, 29.30, 105.925, 29.349),
        valid_from=dt.date(2024, 6, 1),
    )
    with pytest.raises(ProblemsError) as excinfo:
        changesets.approve(submitted, users.community)
    assert refused(excinfo) == (409, ["stale"])
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_the_author_may_not_approve_their_own_change_set(tree, users, submitted):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.approve(submitted, users.worker)
    assert refused(excinfo) == (403, ["own_change_set"])
    with pytest.raises(ProblemsError) as excinfo:
        changesets.approve(submitted, users.department)
    assert refused(excinfo) == (403, ["not_reviewer"])


def test_only_a_submitted_change_set_is_approved(tree, users, drawn):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.approve(drawn, users.community)
    assert refused(excinfo) == (409, ["not_submitted"])


def test_return_needs_a_comment_and_gives_the_author_the_lock_again(tree, users, submitted):
    with pytest.raises(ProblemsError) as excinfo:
        changesets.return_for_changes(submitted, users.community, "  ")
    assert refused(excinfo) == (400, ["comment_required"])

    ChangeSet.objects.filter(pk=submitted.pk).update(
        lock_expires_at=timezone.now() - dt.timedelta(days=2)
    )
    returned = changesets.return_for_changes(submitted, users.community, "东边界沿河道画")
    assert (returned.status, returned.comment) == (Status.RETURNED, "东边界沿河道画")
    assert returned.locked
    assert events(returned)[-1] == ("returned", "community")
    assert returned.events.last().comment == "东边界沿河道画"

    # The author edits again and submits again.
    editing.reshape(
        returned, users.worker, code=WEST, geom=geojson(box(105.90, 29.30, 105.935, 29.35))
    )
    assert changesets.submit(returned, users.worker).status == Status.SUBMITTED


def test_withdraw_frees_the_grids(tree, users, submitted, rival):
    with pytest.raises(ProblemsError) as excinfo:
        editing.rename(rival, users.community, code=EAST, name="东区")
    assert refused(excinfo) == (409, ["conflict"])
    with pytest.raises(ProblemsError) as excinfo:
        changesets.withdraw(submitted, users.department)
    assert refused(excinfo) == (403, ["not_allowed"])

    withdrawn = changesets.withdraw(submitted, users.worker)
    assert withdrawn.status == Status.WITHDRAWN
    editing.rename(rival, users.community, code=EAST, name="东区")
    with pytest.raises(ProblemsError) as excinfo:
        changesets.withdraw(withdrawn, users.worker)
    assert refused(excinfo) == (409, ["not_open"])


def test_conflicts_name_the_other_change_set(tree, users, drawn, rival):
    expire(drawn)
    editing.rename(rival, users.community, code=EAST, name="东区")

    problems = changesets.conflicts(drawn)
    assert [(p.code, p.feature, p.severity) for p in problems] == [("conflict", EAST, "error")]
    assert f"#{rival.pk}" in problems[0].message and "社区重划" in problems[0].message
    assert ChangeSet.objects.holding().filter(pk=drawn.pk).count() == 0


def test_whoever_drew_a_change_set_never_reviews_it(tree, users, make_user):
    """Separation of duties survives a take-over: the first author's drawing is still in the
    change set, so they may not approve it once someone else has taken it over and submits."""
    first = make_user("secretary", Role.COMMUNITY_STAFF, region=tree.communities[(1, 1)])
    change_set = changesets.create(user=first, region=tree.communities[(1, 1)], title="调整")
    editing.reshape(change_set, first, code=WEST, geom=geojson(west_grown()))
    expire(change_set)
    taken = changesets.take_over(change_set, users.community)
    changesets.submit(taken, users.community)

    assert not changesets.can_review(first, taken)
    with pytest.raises(ProblemsError) as excinfo:
        changesets.approve(taken, first)
    assert refused(excinfo)[0] == 403
    # Someone who took no part may approve.
    assert changesets.approve(taken, users.street).status == Status.APPROVED
