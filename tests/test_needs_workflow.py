"""The needs loop in its services (issue #20): raise → accept → candidates → dispatch →
accept → report → confirm; declines, withdrawals, merges, versions, areas, capacity, each
role's allowed and refused steps, the clocks, and grid keys on write and boundary changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from needs.models import (
    Dispatch,
    DispatchStatus,
    Need,
    NeedAction,
    NeedEvent,
    NeedSource,
    NeedStatus,
    ProviderStatus,
)
from needs.services import clocks, dispatch, matching, review
from needs.services.errors import Refused, Stale
from notifications.models import Notification
from tests.needs_fixtures import add_provider, centre_of, photo, refused

pytestmark = pytest.mark.django_db


def actions(need) -> list[str]:
    return list(NeedEvent.objects.filter(need=need).values_list("action", flat=True))


# --- the whole loop ----------------------------------------------------------------------------


def test_whole_loop(tree, needs_people, volunteer, raise_need):
    p = needs_people
    need = raise_need(photos=[photo()])
    assert need.status == NeedStatus.SUBMITTED
    assert need.number.startswith("XQ") and len(need.number) == 14
    assert need.grid == tree.grids[(1, 1, 1)] and need.community == tree.communities[(1, 1)]
    assert need.photos.count() == 1
    assert Notification.objects.filter(user=p.community, kind="need.raised").exists()

    need = review.accept(need, p.community, need.version)
    assert need.status == NeedStatus.ACCEPTED and need.version == 2
    assert need.due_at == need.reviewed_at + dt.timedelta(days=need.kind.days_to_fulfil)

    found = matching.candidates(need)
    assert [c.provider for c in found] == [volunteer]
    assert found[0].eligible and found[0].free == 1 and found[0].distance_m > 0

    d = dispatch.send(need, volunteer, found[0].offer, p.community, need.version)
    need.refresh_from_db()
    assert (need.status, d.status) == (NeedStatus.DISPATCHED, DispatchStatus.SENT)
    assert d.respond_by == d.dispatched_at + dt.timedelta(hours=48)
    told = Notification.objects.get(user=p.provider, kind="need.dispatched")
    assert told.url == "/needs/inbox/" and told.title == f"新派单：需求 {need.number}"
    assert Notification.objects.get(user=p.community, kind="need.raised").url == (
        f"/needs/{need.pk}/"
    )
    assert Need.objects.visible_to(p.provider).get() == need

    d = dispatch.accept(d, p.provider, d.version)
    need.refresh_from_db()
    assert need.status == NeedStatus.TAKEN

    d = dispatch.report(d, p.provider, d.version, "已送菜上门", "2.5", [photo("after.png")])
    need.refresh_from_db()
    assert need.status == NeedStatus.REPORTED and need.fulfilled_at is not None
    assert str(d.hours) == "2.5"
    assert need.photos.filter(stage="report", dispatch=d).count() == 1
    assert Notification.objects.filter(user=p.worker, kind="need.reported").exists()

    need = dispatch.confirm(need, p.worker, need.version, 5, "老人很满意")
    d.refresh_from_db()
    assert need.status == NeedStatus.DONE and need.satisfaction == 5
    assert d.status == DispatchStatus.CONFIRMED
    assert actions(need) == [
        NeedAction.RAISED,
        NeedAction.ACCEPTED,
        NeedAction.DISPATCHED,
        NeedAction.TAKEN,
        NeedAction.REPORTED,
        NeedAction.CONFIRMED,
    ]
    # Every step wrote the version it produced.
    assert list(NeedEvent.objects.filter(need=need).values_list("version", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]


def test_numbers_run_per_day(raise_need):
    first, second = raise_need(), raise_need()
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    assert first.number[:10] == second.number[:10]


def test_reviewer_may_accept_on_raising(raise_need, needs_people, tree):
    need = raise_need(needs_people.community, source=NeedSource.STAFF, accept=True)
    assert need.status == NeedStatus.ACCEPTED and need.due_at is not None
    with refused("not_allowed"):
        raise_need(accept=True)  # the grid worker may not


def test_urgent_need_due_in_two_days(raise_need, needs_people):
    need = raise_need(urgency="urgent")
    need = review.accept(need, needs_people.community, need.version)
    assert need.due_at - need.reviewed_at == dt.timedelta(days=2)


def test_provider_declines_and_need_is_dispatched_again(
    tree, needs_people, volunteer, accepted_need
):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    with refused("required"):
        dispatch.decline(d, p.provider, d.version, "  ")
    d = dispatch.decline(d, p.provider, d.version, "本周不在")
    need = Need.objects.get(pk=accepted_need.pk)
    assert d.status == DispatchStatus.DECLINED and need.status == NeedStatus.ACCEPTED
    assert Notification.objects.filter(user=p.community, kind="need.provider_declined").exists()
    other = add_provider(
        tree.communities[(1, 1)],
        p.other_provider,
        location=centre_of(tree.grids[(1, 1, 1)]),
        name="李党员",
    )
    again = dispatch.send(need, other, None, p.community, need.version)
    assert again.status == DispatchStatus.SENT
    assert Dispatch.objects.filter(need=need).count() == 2


def test_community_withdraws_a_dispatch(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    with refused("not_allowed"):
        dispatch.withdraw(d, p.provider, d.version, "换人")
    d = dispatch.withdraw(d, p.community, d.version, "联系不上")
    assert d.status == DispatchStatus.WITHDRAWN
    assert Need.objects.get(pk=accepted_need.pk).status == NeedStatus.ACCEPTED


def test_staff_may_report_on_the_providers_behalf(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    with refused("wrong_status"):  # the provider itself must accept first
        dispatch.report(d, p.provider, d.version, "做完了", 1)
    d = dispatch.report(d, p.community, d.version, "电话核实已完成", 1)
    assert d.status == DispatchStatus.REPORTED and d.accepted_at is not None


# --- merge and decline -------------------------------------------------------------------------


def test_merge_keeps_photos_and_contact(raise_need, needs_people):
    p = needs_people
    first = raise_need()
    second = raise_need(photos=[photo()], contact_name="李大爷", contact_phone="13700000000")
    assert review.duplicates(second) == [first]
    merged = review.merge(second, first, p.community, second.version)
    assert merged.status == NeedStatus.MERGED and merged.merged_into == first
    merged.refresh_from_db()
    assert merged.photos.count() == 1
    assert (merged.contact_name, merged.contact_phone) == ("李大爷", "13700000000")
    assert Notification.objects.filter(user=p.worker, kind="need.merged").exists()
    assert NeedEvent.objects.filter(need=first, action=NeedAction.MERGED).exists()


def test_merge_refusals(raise_need, needs_people, tree):
    p = needs_people
    a, b = raise_need(), raise_need()
    with refused("merge_into_itself"):
        review.merge(a, a, p.community, a.version)
    review.decline(b, p.community, b.version, "重复登记")
    with refused("merge_target_closed"):
        review.merge(a, b, p.community, a.version)
    far = raise_need(p.admin, source=NeedSource.STAFF, location=centre_of(tree.grids[(2, 2, 1)]))
    with refused("merge_other_community"):
        review.merge(a, far, p.community, a.version)


def test_merge_flattens_earlier_merges(raise_need, needs_people):
    p = needs_people
    a, b, c = raise_need(), raise_need(), raise_need()
    review.merge(a, b, p.community, a.version)
    b.refresh_from_db()
    review.merge(b, c, p.community, b.version)
    assert Need.objects.get(pk=a.pk).merged_into_id == c.pk


def test_decline_needs_a_reason(raise_need, needs_people):
    need = raise_need()
    with refused("required"):
        review.decline(need, needs_people.community, need.version, "")
    need = review.decline(need, needs_people.community, need.version, "不属于服务范围")
    assert need.status == NeedStatus.DECLINED
    with refused("wrong_status"):
        review.accept(need, needs_people.community, need.version)


# --- versions ----------------------------------------------------------------------------------


def test_stale_version_is_refused_with_the_current_record(raise_need, needs_people):
    need = raise_need()
    review.accept(need, needs_people.community, need.version)
    with pytest.raises(Stale) as stale:
        review.decline(need, needs_people.community, 1, "晚了")
    assert stale.value.current.version == 2
    assert stale.value.current.status == NeedStatus.ACCEPTED


def test_stale_dispatch_version(needs_people, volunteer, accepted_need):
    d = dispatch.send(accepted_need, volunteer, None, needs_people.community, accepted_need.version)
    dispatch.accept(d, needs_people.provider, d.version)
    with pytest.raises(Stale):
        dispatch.decline(d, needs_people.provider, 1, "不去了")


def test_edit_bumps_the_version(raise_need, needs_people):
    need = raise_need()
    need = review.edit(need, needs_people.worker, need.version, {"title": "帮老人买药"})
    assert need.title == "帮老人买药" and need.version == 2
    assert actions(need)[-1] == NeedAction.EDITED
    need = review.accept(need, needs_people.community, need.version)
    with refused("not_allowed"):  # the worker edits only while it waits for review
        review.edit(need, needs_people.worker, need.version, {"title": "x"})


# --- dispatch refusals -------------------------------------------------------------------------


def test_provider_outside_area_refused(tree, needs_people, accepted_need):
    far = add_provider(
        tree.communities[(2, 2)],
        needs_people.other_provider,
        location=centre_of(tree.grids[(2, 2, 1)]),
    )
    with refused("provider_outside_area"):
        dispatch.send(accepted_need, far, None, needs_people.community, accepted_need.version)
    [candidate] = [c for c in matching.candidates(accepted_need) if c.provider == far]
    assert not candidate.eligible and candidate.reason == "outside_area"


def test_radius_refused(tree, needs_people, accepted_need):
    near_but_small = add_provider(
        tree.communities[(1, 1)], None, location=centre_of(tree.grids[(1, 1, 2)]), radius_m=50
    )
    with refused("provider_outside_area"):
        dispatch.send(
            accepted_need, near_but_small, None, needs_people.community, accepted_need.version
        )
    [candidate] = matching.candidates(accepted_need)
    assert candidate.reason == "over_radius"


def test_capacity_refused(raise_need, needs_people, volunteer):
    p = needs_people
    first = review.accept(n := raise_need(), p.community, n.version)
    second = review.accept(n := raise_need(), p.community, n.version)
    dispatch.send(first, volunteer, None, p.community, first.version)
    with refused("no_capacity"):
        dispatch.send(second, volunteer, None, p.community, second.version)
    [candidate] = matching.candidates(second)
    assert (candidate.free, candidate.load, candidate.reason) == (0, 1, "no_capacity")


def test_not_confirmed_refused(tree, needs_people, accepted_need):
    pending = add_provider(
        tree.communities[(1, 1)], None, location=None, status=ProviderStatus.PENDING
    )
    with refused("provider_not_confirmed"):
        dispatch.send(accepted_need, pending, None, needs_people.community, accepted_need.version)
    [candidate] = matching.candidates(accepted_need)
    assert candidate.reason == "not_confirmed" and candidate.distance_m is None


def test_kind_mismatch_and_need_not_accepted(tree, needs_people, raise_need, volunteer):
    p = needs_people
    need = raise_need()
    with refused("need_not_accepted"):
        dispatch.send(need, volunteer, None, p.community, need.version)
    legal = review.accept(n := raise_need(kind="legal"), p.community, n.version)
    with refused("kind_mismatch"):
        dispatch.send(legal, volunteer, volunteer.offers.get(), p.community, legal.version)


# --- roles -------------------------------------------------------------------------------------


def test_grid_worker_raises_in_own_grid_only(raise_need, tree, needs_people):
    with refused("outside_jurisdiction"):
        raise_need(location=centre_of(tree.grids[(1, 1, 2)]))
    assert raise_need(location=None).grid == tree.grids[(1, 1, 1)]


def test_who_may_review(raise_need, needs_people):
    p = needs_people
    for user in (p.worker, p.department, p.provider, p.other_community):
        need = Need.objects.get(pk=raise_need().pk)
        with refused("not_allowed"):
            review.accept(need, user, need.version)
    for user in (p.community, p.street, p.district, p.admin):
        need = raise_need()
        assert review.accept(need, user, need.version).status == NeedStatus.ACCEPTED


def test_who_may_act_on_a_dispatch(needs_people, volunteer, accepted_need):
    p = needs_people
    with refused("not_allowed"):
        dispatch.send(accepted_need, volunteer, None, p.worker, accepted_need.version)
    d = dispatch.send(accepted_need, volunteer, None, p.street, accepted_need.version)
    for user in (p.other_provider, p.community, p.worker, p.admin):
        with refused("not_allowed"):
            dispatch.accept(d, user, d.version)
    d = dispatch.accept(d, p.provider, d.version)
    with refused("not_allowed"):
        dispatch.report(d, p.other_provider, d.version, "x", 1)
    with refused("invalid"):
        dispatch.report(d, p.provider, d.version, "做完了", 0)
    with refused("invalid"):
        dispatch.report(d, p.provider, d.version, "做完了", 25)
    d = dispatch.report(d, p.provider, d.version, "做完了", 3)
    need = Need.objects.get(pk=accepted_need.pk)
    for user in (p.provider, p.other_worker, p.department, p.other_community):
        with refused("not_allowed"):
            dispatch.confirm(need, user, need.version, 4)
    with refused("invalid"):
        dispatch.confirm(need, p.worker, need.version, 6)
    assert dispatch.confirm(need, p.community, need.version, 4).status == NeedStatus.DONE


def test_what_each_role_sees(raise_need, needs_people, volunteer, tree):
    p = needs_people
    mine = raise_need()
    theirs = raise_need(p.admin, source=NeedSource.STAFF, location=centre_of(tree.grids[(2, 2, 2)]))
    visible = {u: set(Need.objects.visible_to(u)) for u in vars(p).values()}
    assert visible[p.admin] == {mine, theirs}
    assert visible[p.district] == {mine, theirs}
    assert visible[p.street] == visible[p.community] == visible[p.worker] == {mine}
    assert visible[p.other_worker] == visible[p.other_community] == {theirs}
    assert visible[p.department] == visible[p.provider] == set()
    accepted = review.accept(mine, p.community, mine.version)
    dispatch.send(accepted, volunteer, None, p.community, accepted.version)
    assert set(Need.objects.visible_to(p.provider)) == {mine}
    assert set(Need.objects.visible_to(p.other_provider)) == set()


def test_public_need(raise_need, tree):
    grid = tree.grids[(1, 1, 2)]
    need = raise_need(source=NeedSource.PUBLIC, grid=grid, submitter="a" * 64, location=None)
    assert need.raised_by is None and need.grid == grid and need.submitter == "a" * 64
    with refused("outside_community"):
        raise_need(source=NeedSource.PUBLIC, grid=grid, location=centre_of(tree.grids[(2, 1, 1)]))
    with refused("not_allowed"):
        raise_need(source=NeedSource.PUBLIC, grid=grid, household=1)


def test_input_refusals(raise_need, tree):
    with refused("required"):
        raise_need(title=" ")
    with refused("too_long"):
        raise_need(title="长" * 61)
    with refused("invalid"):
        raise_need(kind="nonsense")
    with refused("outside_grids"):
        raise_need(location=Point(120.0, 30.0, srid=4326))
    with refused("too_many_photos"):
        raise_need(photos=[photo() for _ in range(4)])
    with refused("not_an_image"):
        raise_need(photos=[SimpleUploadedFile("x.jpg", b"not an image")])
    assert not Need.objects.exists()


def test_client_key_resend_answers_the_same_need(raise_need, needs_people):
    first = raise_need(client_key="k" * 32)
    assert raise_need(client_key="k" * 32) == first
    with refused("key_conflict"):
        raise_need(needs_people.community, source=NeedSource.STAFF, client_key="k" * 32)


def test_household_keys_the_need(raise_need, homes, tree):
    home = homes[(1, 1, 1)]
    need = raise_need(location=None, household=home.pk)
    assert need.household == home and need.location == home.location
    with refused("invalid"):
        raise_need(location=None, household=homes[(1, 1, 2)].pk)  # not the worker's


# --- clocks ------------------------------------------------------------------------------------


def test_clocks_remind_once_and_mark_overdue(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    run = clocks.watch(d.respond_by - dt.timedelta(minutes=1))
    assert (run.reminded, run.overdue) == (0, 0)
    later = d.respond_by + dt.timedelta(minutes=1)
    run = clocks.watch(later)
    assert run.reminded == 1 and run.notified == 2
    assert clocks.watch(later).reminded == 0
    d.refresh_from_db()
    assert d.reminded
    need = Need.objects.get(pk=accepted_need.pk)
    run = clocks.watch(need.due_at + dt.timedelta(minutes=1))
    assert run.overdue == 1
    need.refresh_from_db()
    assert need.overdue and need.version == 3  # a flag, not a step: no new version
    told = set(
        Notification.objects.filter(kind="need.overdue").values_list("user__username", flat=True)
    )
    assert told == {"community", "worker", "provider"}
    assert clocks.watch(need.due_at + dt.timedelta(days=1)).overdue == 0
    assert actions(need).count(NeedAction.OVERDUE) == 1
    assert actions(need).count(NeedAction.REMINDED) == 1


def test_reported_need_is_not_overdue(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    d = dispatch.accept(d, p.provider, d.version)
    dispatch.report(d, p.provider, d.version, "已完成", 1)
    need = Need.objects.get(pk=accepted_need.pk)
    assert clocks.watch(need.due_at + dt.timedelta(days=1)).overdue == 0


# --- grid keys ---------------------------------------------------------------------------------


def test_the_grid_is_keyed_from_the_point(raise_need, needs_people, tree):
    need = raise_need(
        needs_people.community,
        source=NeedSource.STAFF,
        location=centre_of(tree.grids[(1, 1, 2)]),
    )
    assert need.grid == tree.grids[(1, 1, 2)]


def test_steps_reach_the_live_stream(raise_need, needs_people, tree):
    from live.models import Event

    need = raise_need()
    review.accept(need, needs_people.community, need.version)
    events = list(Event.objects.filter(kind__startswith="need.").order_by("id"))
    assert [e.kind for e in events] == ["need.created", "need.changed"]
    assert events[1].object["status"] == "accepted" and events[1].layers == ["needs"]
    assert (events[1].grid_id, events[1].community_id, events[1].district_id) == (
        need.grid_id,
        need.community_id,
        tree.district.pk,
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("kind", "²"),
        ("kind", 2**70),
        ("kind", True),
        ("household", "9" * 30),
        ("location", Point(500, 500, srid=4326)),
        ("location", "29.3,105.9"),
    ],
)
def test_odd_values_are_refused_by_name(raise_need, field, value):
    with pytest.raises(Refused) as error:
        raise_need(**{field: value})
    assert error.value.field == field and error.value.status == 400


def test_the_clocks_job_runs_the_watch(needs_people, volunteer, accepted_need):
    from needs import jobs

    d = dispatch.send(accepted_need, volunteer, None, needs_people.community, accepted_need.version)
    Dispatch.objects.filter(pk=d.pk).update(respond_by=timezone.now() - dt.timedelta(hours=1))
    jobs.watch_clocks(timestamp=0)
    assert Dispatch.objects.get(pk=d.pk).reminded


def test_not_done_goes_back_to_the_provider(needs_people, volunteer, accepted_need):
    p = needs_people
    d = dispatch.send(accepted_need, volunteer, None, p.community, accepted_need.version)
    d = dispatch.accept(d, p.provider, d.version)
    d = dispatch.report(d, p.provider, d.version, "已完成", 1)
    need = Need.objects.get(pk=accepted_need.pk)
    with refused("not_allowed"):
        dispatch.reopen(need, p.provider, need.version, "没修好")
    need = dispatch.reopen(need, p.worker, need.version, "水管还在漏")
    d.refresh_from_db()
    assert (need.status, d.status, need.fulfilled_at) == (NeedStatus.TAKEN, "accepted", None)
    assert Notification.objects.filter(user=p.provider, kind="need.reopened").exists()
    d = dispatch.report(d, p.provider, d.version, "换了阀门", 2)
    need = dispatch.confirm(Need.objects.get(pk=need.pk), p.worker, need.version + 1, 4)
    assert need.status == NeedStatus.DONE
