"""The needs API over HTTP with each role (issue #20): the grid worker raises, the community
reviews (accept, merge, decline) and dispatches, the provider accepts, declines and reports
with photos, the grid worker confirms. Roles and other jurisdictions get 403/404; a stale
version is 409 with the current record; every list's query count is pinned."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from PIL import Image

from grids.models import Role, User
from needs.models import Dispatch, Need, NeedStatus, ProviderStatus, ServiceOffer
from needs.services import intake
from tests.needs_fixtures import add_provider, centre_of, send_dispatch
from tests.test_import_words import assert_chinese

pytestmark = pytest.mark.django_db


def jpeg(name="p.jpg") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(data, "JPEG")
    data.seek(0)
    data.name = name
    return data


def point(p) -> dict:
    return {"type": "Point", "coordinates": [p.x, p.y]}


def errors(response) -> list[tuple]:
    body = response.json()
    assert body["status"] == response.status_code, body
    return [(e["code"], e.get("field")) for e in body["errors"]]


@pytest.fixture
def people(needs_people):
    return needs_people


@pytest.fixture
def as_(api):
    return api


def raise_over_http(client, tree, **fields):
    body = {
        "kind": "elderly",
        "title": "帮独居老人买菜",
        "description": "每周两次",
        "contact_name": "王大妈",
        "contact_phone": "13912345678",
        "location": point(centre_of(tree.grids[(1, 1, 1)])),
    } | fields
    return client.post("/api/needs/", body, format="json")


# --- the whole loop ------------------------------------------------------------------------------


def test_the_whole_loop_with_each_role(tree, people, volunteer, as_):
    worker, community, provider = as_(people.worker), as_(people.community), as_(people.provider)

    raised = worker.post(
        "/api/needs/",
        {
            "kind": "elderly",
            "title": "帮独居老人买菜",
            "contact_name": "王大妈",
            "contact_phone": "13912345678",
            "location": json.dumps(point(centre_of(tree.grids[(1, 1, 1)]))),
            "photos": [jpeg("a.jpg")],
        },
        format="multipart",
    )
    assert raised.status_code == 201, raised.json()
    need = raised.json()
    assert (need["status"], need["source"], need["grid"], need["version"]) == (
        "submitted",
        "grid_worker",
        tree.grids[(1, 1, 1)].code,
        1,
    )
    assert need["number"].startswith("XQ") and len(need["photos"]) == 1
    assert need["photos"][0]["url"].startswith("/media/needs/")
    assert need["allowed_actions"] == ["edit"]
    pk = need["id"]

    # The grid worker raises; it does not review.
    refused = worker.post(f"/api/needs/{pk}/accept/", {"version": 1}, format="json")
    assert refused.status_code == 403 and errors(refused) == [("not_allowed", None)]

    seen = community.get(f"/api/needs/{pk}/").json()
    assert seen["allowed_actions"] == ["edit", "accept", "decline", "merge"]
    accepted = community.post(f"/api/needs/{pk}/accept/", {"version": 1}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["status"], accepted.json()["version"]) == ("accepted", 2)
    assert accepted.json()["due_at"] is not None
    assert "dispatch" in accepted.json()["allowed_actions"]

    candidates = community.get(f"/api/needs/{pk}/candidates/")
    assert candidates.status_code == 200
    [best] = candidates.json()
    assert best["provider"]["id"] == volunteer.pk and best["eligible"] and best["reason"] == ""
    assert best["distance_m"] > 0 and best["free"] == 1 and best["load"] == 0

    sent = community.post(
        f"/api/needs/{pk}/dispatch/",
        {"provider": volunteer.pk, "offer": best["offer"]["id"], "version": 2},
        format="json",
    )
    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "dispatched"
    assert sent.json()["dispatch"]["provider"] == volunteer.pk

    # The provider's inbox: the need, its contact masked until it accepts.
    inbox = provider.get("/api/needs/dispatches/")
    assert inbox.status_code == 200
    [row] = inbox.json()["results"]
    assert inbox.json()["providers"][0]["status"] == "confirmed"
    assert row["status"] == "sent" and row["need"]["id"] == pk
    assert (row["need"]["contact_name"], row["need"]["contact_phone"]) == ("王**", "139****5678")
    mine = provider.get(f"/api/needs/{pk}/").json()
    assert mine["allowed_actions"] == ["dispatch_accept", "dispatch_decline"]
    assert community.get(f"/api/needs/{pk}/").json()["allowed_actions"] == [
        "dispatch_report",
        "dispatch_withdraw",
    ]
    taken = provider.post(
        f"/api/needs/dispatches/{row['id']}/accept/", {"version": row["version"]}, format="json"
    )
    assert taken.status_code == 200, taken.json()
    assert taken.json()["status"] == "accepted"
    assert taken.json()["need"]["contact_phone"] == "13912345678"
    assert taken.json()["need"]["status"] == "taken"
    mine = provider.get(f"/api/needs/{pk}/").json()
    assert mine["allowed_actions"] == ["dispatch_decline", "dispatch_report"]
    assert mine["contact_name"] == "王大妈"

    reported = provider.post(
        f"/api/needs/dispatches/{row['id']}/report/",
        {
            "version": taken.json()["version"],
            "report": "买了菜送上门，陪老人聊了一会",
            "hours": "1.5",
            "photos": [jpeg("b.jpg"), jpeg("c.jpg")],
        },
        format="multipart",
    )
    assert reported.status_code == 200, reported.json()
    assert (reported.json()["status"], reported.json()["hours"]) == ("reported", "1.5")
    assert len(reported.json()["photos"]) == 2

    detail = worker.get(f"/api/needs/{pk}/").json()
    assert detail["status"] == "reported" and detail["allowed_actions"] == ["confirm"]
    confirmed = worker.post(
        f"/api/needs/{pk}/confirm/",
        {"version": detail["version"], "satisfaction": 5, "feedback": "很及时"},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.json()
    done = confirmed.json()
    assert (done["status"], done["satisfaction"], done["confirmed_by"]) == ("done", 5, "worker")
    assert [e["action"] for e in done["events"]] == [
        "raised",
        "accepted",
        "dispatched",
        "taken",
        "reported",
        "confirmed",
    ]
    assert [d["status"] for d in done["dispatches"]] == ["confirmed"]
    assert {p["stage"] for p in done["photos"]} == {"raised", "report"}
    assert done["allowed_actions"] == []


def test_a_provider_declines_and_the_need_is_dispatched_again(
    tree, people, volunteer, accepted_need, as_, kinds
):
    community, provider = as_(people.community), as_(people.provider)
    offer = volunteer.offers.get()
    need = send_dispatch(community, accepted_need, volunteer).json()
    row = need["dispatch"]
    missing = provider.post(
        f"/api/needs/dispatches/{row['id']}/decline/", {"version": row["version"]}, format="json"
    )
    assert missing.status_code == 400 and errors(missing) == [("required", "reason")]
    declined = provider.post(
        f"/api/needs/dispatches/{row['id']}/decline/",
        {"version": row["version"], "reason": "这周出差"},
        format="json",
    )
    assert declined.status_code == 200, declined.json()
    assert declined.json()["status"] == "declined"
    again = community.get(f"/api/needs/{accepted_need.pk}/").json()
    assert again["status"] == "accepted" and again["dispatch"] is None
    other = add_provider(
        tree.communities[(1, 1)],
        people.other_provider,
        location=centre_of(tree.grids[(1, 1, 1)]),
        name="刘师傅",
    )
    sent = community.post(
        f"/api/needs/{accepted_need.pk}/dispatch/",
        {"provider": other.pk, "version": again["version"]},
        format="json",
    )
    assert sent.status_code == 200, sent.json()
    assert sent.json()["dispatch"]["provider"] == other.pk
    assert offer.dispatches.count() == 1
    # The first provider still reads its own (declined) dispatch, not the second one.
    mine = provider.get(f"/api/needs/{accepted_need.pk}/").json()
    assert [d["provider"] for d in mine["dispatches"]] == [volunteer.pk]
    assert mine["contact_phone"] == "139****5678"


def test_the_community_withdraws_a_dispatch_and_records_a_report(
    people, volunteer, accepted_need, as_
):
    community = as_(people.community)
    need = send_dispatch(community, accepted_need, volunteer).json()
    row = need["dispatch"]
    reported = community.post(
        f"/api/needs/dispatches/{row['id']}/report/",
        {"version": row["version"], "report": "电话确认已上门服务", "hours": "2"},
        format="json",
    )
    assert reported.status_code == 200, reported.json()
    assert reported.json()["reported_by"] == "community"
    late = community.post(
        f"/api/needs/dispatches/{row['id']}/withdraw/",
        {"version": reported.json()["version"], "reason": "联系不上"},
        format="json",
    )
    assert late.status_code == 400 and errors(late) == [("wrong_status", "status")]


def test_the_community_merges_and_declines(tree, people, raise_need, as_):
    community = as_(people.community)
    first, second = raise_need(), raise_need(title="老人买菜（重复）")
    duplicates = community.get(f"/api/needs/{second.pk}/duplicates/")
    assert duplicates.status_code == 200
    assert [(d["id"], d["metres"]) for d in duplicates.json()] == [(first.pk, 0.0)]
    merged = community.post(
        f"/api/needs/{second.pk}/merge/", {"version": 1, "into": first.pk}, format="json"
    )
    assert merged.status_code == 200, merged.json()
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", first.pk)
    assert merged.json()["merged_into_number"] == first.number
    # Merged, not lost: photos and contact stay on the merged need.
    assert merged.json()["contact_phone"] == "13912345678"
    itself = community.post(
        f"/api/needs/{first.pk}/merge/", {"version": 1, "into": first.pk}, format="json"
    )
    assert itself.status_code == 400 and errors(itself) == [("merge_into_itself", "into")]
    hidden = raise_need(user=people.other_worker, location=centre_of(tree.grids[(2, 2, 2)]))
    outside = community.post(
        f"/api/needs/{first.pk}/merge/", {"version": 1, "into": hidden.pk}, format="json"
    )
    assert outside.status_code == 400 and errors(outside) == [("invalid", "into")]

    declined = community.post(
        f"/api/needs/{first.pk}/decline/",
        {"version": first.version, "reason": "已由物业解决"},
        format="json",
    )
    assert declined.status_code == 200, declined.json()
    assert (declined.json()["status"], declined.json()["decline_reason"]) == (
        "declined",
        "已由物业解决",
    )


def test_edit_with_the_version_read(people, raise_need, as_, kinds):
    need = raise_need()
    worker = as_(people.worker)
    edited = worker.patch(
        f"/api/needs/{need.pk}/",
        {"version": 1, "title": "帮老人买菜和药", "urgency": "urgent", "kind": "health"},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["title"], edited.json()["kind"], edited.json()["version"]) == (
        "帮老人买菜和药",
        "health",
        2,
    )
    too_long = worker.patch(
        f"/api/needs/{need.pk}/", {"version": 2, "title": "长" * 61}, format="json"
    )
    assert too_long.status_code == 400 and ("max_length", "title") in errors(too_long)


# --- 409 -----------------------------------------------------------------------------------------


def test_a_stale_version_is_409_with_the_current_need(people, raise_need, as_):
    need = raise_need()
    community = as_(people.community)
    accepted = community.post(f"/api/needs/{need.pk}/accept/", {"version": 1}, format="json")
    assert accepted.status_code == 200
    for path, body in (
        (f"/api/needs/{need.pk}/decline/", {"version": 1, "reason": "重复"}),
        (f"/api/needs/{need.pk}/accept/", {"version": 1}),
    ):
        stale = community.post(path, body, format="json")
        assert stale.status_code == 409
        assert errors(stale) == [("stale_version", "version")]
        current = stale.json()["current"]
        assert (current["id"], current["status"], current["version"]) == (
            need.pk,
            "accepted",
            2,
        )
    stale_edit = community.patch(
        f"/api/needs/{need.pk}/", {"version": 1, "title": "新"}, format="json"
    )
    assert stale_edit.status_code == 409 and stale_edit.json()["current"]["title"] == need.title
    assert Need.objects.get(pk=need.pk).version == 2


def test_a_stale_dispatch_step_is_409_with_the_current_dispatch(
    people, volunteer, accepted_need, as_
):
    community, provider = as_(people.community), as_(people.provider)
    row = send_dispatch(community, accepted_need, volunteer).json()["dispatch"]
    taken = provider.post(
        f"/api/needs/dispatches/{row['id']}/accept/", {"version": 1}, format="json"
    )
    assert taken.status_code == 200
    stale = provider.post(
        f"/api/needs/dispatches/{row['id']}/decline/",
        {"version": 1, "reason": "来不及"},
        format="json",
    )
    assert stale.status_code == 409
    assert (stale.json()["current"]["status"], stale.json()["current"]["version"]) == (
        "accepted",
        2,
    )


def test_a_stale_provider_step_is_409(people, tree, as_, kinds):
    pending = add_provider(
        tree.communities[(1, 1)], location=None, status=ProviderStatus.PENDING, name="赵党员"
    )
    community = as_(people.community)
    confirmed = community.post(
        f"/api/needs/providers/{pending.pk}/confirm/",
        {"version": 1, "location": point(centre_of(tree.grids[(1, 1, 2)]))},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.json()
    assert (confirmed.json()["status"], confirmed.json()["grid"]) == (
        "confirmed",
        tree.grids[(1, 1, 2)].code,
    )
    stale = community.post(
        f"/api/needs/providers/{pending.pk}/refuse/",
        {"version": 1, "reason": "不在本社区"},
        format="json",
    )
    assert stale.status_code == 409 and stale.json()["current"]["status"] == "confirmed"


# --- roles and other jurisdictions ---------------------------------------------------------------


def test_other_jurisdictions_get_404_and_roles_403(tree, people, volunteer, accepted_need, as_):
    pk = accepted_need.pk
    # Outside the jurisdiction the need does not exist, whatever is asked.
    for user in (people.other_worker, people.other_community, people.department):
        client = as_(user)
        assert client.get(f"/api/needs/{pk}/").status_code == 404, user
        for step, body in (
            ("accept", {"version": 2}),
            ("decline", {"version": 2, "reason": "x"}),
            ("confirm", {"version": 2, "satisfaction": 5}),
            ("dispatch", {"version": 2, "provider": volunteer.pk}),
        ):
            answer = client.post(f"/api/needs/{pk}/{step}/", body, format="json")
            assert answer.status_code == 404, (user, step)
        assert client.get(f"/api/needs/{pk}/candidates/").status_code == 404
        assert client.get("/api/needs/").json()["count"] == 0
    # A provider sees no need before one is dispatched to it.
    assert as_(people.provider).get(f"/api/needs/{pk}/").status_code == 404
    # The district centre sees it, contact masked (no personal data), and may review.
    district = as_(people.district).get(f"/api/needs/{pk}/").json()
    assert district["contact_phone"] == "139****5678" and district["contact_name"] == "王**"
    # The street centre above reviews and dispatches; the grid worker may not dispatch.
    worker = as_(people.worker)
    refused = worker.post(
        f"/api/needs/{pk}/dispatch/", {"version": 2, "provider": volunteer.pk}, format="json"
    )
    assert refused.status_code in (400, 403)
    assert worker.get(f"/api/needs/{pk}/candidates/").status_code == 403
    sent = as_(people.street).post(
        f"/api/needs/{pk}/dispatch/", {"version": 2, "provider": volunteer.pk}, format="json"
    )
    assert sent.status_code == 200, sent.json()
    # The other provider cannot act on this dispatch: it does not exist for it.
    row = sent.json()["dispatch"]
    other = as_(people.other_provider)
    assert other.get(f"/api/needs/dispatches/{row['id']}/").status_code == 404
    answer = other.post(f"/api/needs/dispatches/{row['id']}/accept/", {"version": 1}, format="json")
    assert answer.status_code == 404
    # The community may not accept on the provider's behalf.
    refused = as_(people.community).post(
        f"/api/needs/dispatches/{row['id']}/accept/", {"version": 1}, format="json"
    )
    assert refused.status_code == 403 and errors(refused) == [("not_allowed", None)]
    # Departments and providers raise nothing.
    for user in (people.department, people.provider):
        assert raise_over_http(as_(user), tree).status_code == 403


def test_raising_outside_ones_grid_is_refused_without_naming_it(tree, people, as_, kinds):
    worker = as_(people.worker)
    far = raise_over_http(worker, tree, location=point(centre_of(tree.grids[(2, 2, 2)])))
    assert far.status_code == 403 and errors(far) == [("outside_jurisdiction", "location")]
    code = tree.grids[(2, 2, 2)].code
    other = raise_over_http(worker, tree, location=None, grid=code)
    assert other.status_code == 400 and errors(other) == [("invalid", "grid")]
    assert code not in other.content.decode()
    # Without a point, the worker's own grid.
    own = raise_over_http(worker, tree, location=None, address="幸福路3号")
    assert own.status_code == 201 and own.json()["grid"] == tree.grids[(1, 1, 1)].code


def test_a_resend_with_the_same_key_answers_the_first_need(tree, people, as_, kinds):
    worker = as_(people.worker)
    first = raise_over_http(worker, tree, client_key="k-1234")
    again = raise_over_http(worker, tree, client_key="k-1234")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Need.objects.count() == 1
    stolen = raise_over_http(as_(people.community), tree, client_key="k-1234")
    assert stolen.status_code == 400 and errors(stolen) == [("key_conflict", "client_key")]


def test_a_reviewer_raises_and_accepts_at_once(tree, people, as_, kinds):
    made = raise_over_http(as_(people.community), tree, accept=True)
    assert made.status_code == 201 and made.json()["status"] == "accepted"
    assert made.json()["source"] == "staff"
    refused = raise_over_http(as_(people.worker), tree, accept=True)
    assert refused.status_code == 403 and errors(refused) == [("not_allowed", "accept")]


def test_a_provider_outside_the_area_cannot_take_the_need(tree, people, accepted_need, as_):
    far = add_provider(
        tree.communities[(1, 2)],
        location=centre_of(tree.grids[(1, 2, 1)]),
        name="远方志愿者",
    )
    refused = as_(people.street).post(
        f"/api/needs/{accepted_need.pk}/dispatch/",
        {"provider": far.pk, "version": accepted_need.version},
        format="json",
    )
    assert refused.status_code == 400
    assert errors(refused) == [("provider_outside_area", "provider")]
    # Community staff do not see the other community's provider at all.
    hidden = as_(people.community).post(
        f"/api/needs/{accepted_need.pk}/dispatch/",
        {"provider": far.pk, "version": accepted_need.version},
        format="json",
    )
    assert hidden.status_code == 400 and errors(hidden) == [("invalid", "provider")]


# --- the services list ---------------------------------------------------------------------------


def test_the_community_keeps_its_services_list(tree, people, as_, kinds):
    community = as_(people.community)
    made = community.post(
        "/api/needs/providers/",
        {
            "kind": "co_building",
            "name": "永川区人民医院",
            "phone": "023-49876543",
            "location": point(centre_of(tree.grids[(1, 1, 2)])),
            "offers": [{"kind": "health", "capacity": 3, "availability": "每月第一个周六"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    provider = made.json()
    assert (provider["status"], provider["community"], provider["phone"]) == (
        "confirmed",
        tree.communities[(1, 1)].pk,
        "023-49876543",
    )
    [offer] = provider["offers"]
    assert (offer["kind"], offer["capacity"], offer["area"]) == (
        "health",
        3,
        [tree.communities[(1, 1)].pk],
    )
    changed = community.patch(
        f"/api/needs/offers/{offer['id']}/", {"version": 1, "capacity": 5}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["capacity"] == 5
    added = community.post(
        "/api/needs/offers/",
        {"provider": provider["id"], "kind": "legal", "radius_m": 2000},
        format="json",
    )
    assert added.status_code == 201 and added.json()["radius_m"] == 2000
    far = community.post(
        "/api/needs/offers/",
        {"provider": provider["id"], "kind": "legal", "area": [tree.communities[(2, 2)].pk]},
        format="json",
    )
    assert far.status_code == 400 and errors(far) == [("invalid", "area")]
    removed = community.delete(f"/api/needs/offers/{added.json()['id']}/?version=1")
    assert removed.status_code == 204
    no_version = community.delete(f"/api/needs/offers/{offer['id']}/")
    assert no_version.status_code == 400 and errors(no_version) == [("invalid", "version")]
    # The grid worker reads its community's confirmed providers; it does not write.
    worker = as_(people.worker)
    assert worker.get("/api/needs/providers/").json()["count"] == 1
    refused = worker.patch(
        f"/api/needs/providers/{provider['id']}/", {"version": 1, "name": "改名"}, format="json"
    )
    assert refused.status_code == 403
    # Another community does not see it.
    assert (
        as_(people.other_community).get(f"/api/needs/providers/{provider['id']}/").status_code
        == 404
    )


def test_pending_registrations_are_listed_for_the_community(tree, people, as_, kinds):
    pending = add_provider(
        tree.communities[(1, 1)], location=None, status=ProviderStatus.PENDING, name="赵党员"
    )
    community = as_(people.community)
    listed = community.get("/api/needs/providers/?status=pending")
    assert [p["id"] for p in listed.json()["results"]] == [pending.pk]
    no_place = community.post(
        f"/api/needs/providers/{pending.pk}/confirm/", {"version": 1}, format="json"
    )
    assert no_place.status_code == 400 and errors(no_place) == [("required", "location")]
    refused = community.post(
        f"/api/needs/providers/{pending.pk}/refuse/",
        {"version": 1, "reason": "不在本社区"},
        format="json",
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    # The district centre reads the person's name and phone masked.
    district = as_(people.district).get(f"/api/needs/providers/{pending.pk}/").json()
    assert (district["name"], district["phone"]) == ("赵**", "138****0000")


def test_kinds_are_the_catalogue(people, as_, kinds):
    listed = as_(people.worker).get("/api/needs/kinds/")
    assert listed.status_code == 200
    assert [k["code"] for k in listed.json()][:3] == list(kinds)[:3]
    assert len(listed.json()) == 15


# --- query counts --------------------------------------------------------------------------------


def _many_needs(tree, people, volunteer, n: int):
    for i in range(n):
        need = intake.raise_need(
            people.worker,
            {
                "kind": "elderly",
                "title": f"需求{i}",
                "contact_phone": "13912345678",
                "location": centre_of(tree.grids[(1, 1, 1)]),
                "accept": False,
            },
            source="grid_worker",
        )
        Need.objects.filter(pk=need.pk).update(status=NeedStatus.ACCEPTED)
        offer = ServiceOffer.objects.create(provider=volunteer, kind=need.kind, capacity=1)
        Dispatch.objects.create(need=need, provider=volunteer, offer=offer)


# Needs: count, rows, open dispatches (+ their providers), the audit row of unmasked contacts
# (none for the district centre: masked). Dispatches read their needs in a query of their own.
# A provider adds its accepted needs (masks) and, in the inbox, its own registrations.
# Duplicates and candidates: the need, the search, the rows (+ open dispatches) or the
# providers named, the audit row. Counted once the process has read its spatial reference.
@pytest.mark.parametrize(
    ("who", "path", "queries"),
    [
        ("community", "/api/needs/", 4),
        ("district", "/api/needs/", 3),
        ("worker", "/api/needs/", 4),
        ("provider", "/api/needs/", 5),
        ("community", "/api/needs/dispatches/", 5),
        ("provider", "/api/needs/dispatches/", 7),
        ("community", "/api/needs/providers/", 5),
        ("community", "/api/needs/offers/", 3),
        ("community", "/api/needs/kinds/", 1),
        ("community", "/api/needs/{need}/duplicates/", 5),
        ("community", "/api/needs/{need}/candidates/", 5),
    ],
)
def test_list_queries_do_not_grow(
    tree, people, volunteer, as_, django_assert_num_queries, who, path, queries
):
    client = as_(getattr(people, who))
    _many_needs(tree, people, volunteer, 2)
    path = path.format(need=Need.objects.order_by("pk").first().pk)
    # Once before counting: GeoDjango reads a spatial reference system once per process.
    assert client.get(path).status_code == 200
    with django_assert_num_queries(queries):
        first = client.get(path)
    assert first.status_code == 200
    _many_needs(tree, people, volunteer, 5)
    add_provider(tree.communities[(1, 1)], location=centre_of(tree.grids[(1, 1, 1)]), name="李")
    with django_assert_num_queries(queries):
        second = client.get(path)
    assert second.status_code == 200
    body = second.json()
    rows = body if isinstance(body, list) else body["results"]
    assert rows, path


# --- figures -------------------------------------------------------------------------------------


def test_figures_of_a_region_for_each_role(tree, people, raise_need, as_):
    need = raise_need()
    community = as_(people.community).get("/api/needs/figures/")
    assert community.status_code == 200, community.json()
    body = community.json()
    assert body["region"]["id"] == tree.communities[(1, 1)].pk
    assert body["needs"]["raised"] == 1 and body["needs"]["open_now"] == 1
    assert [a["code"] for a in body["by_area"]] == [
        tree.grids[(1, 1, 1)].code,
        tree.grids[(1, 1, 2)].code,
    ]
    # A department reads the counts of its district (statistics, no need).
    district = tree.district.pk
    department = as_(people.department).get(f"/api/needs/figures/?region={district}")
    assert department.status_code == 200 and department.json()["needs"]["raised"] == 1
    assert as_(people.department).get(f"/api/needs/{need.pk}/").status_code == 404
    # Another street's region is no region at all; a provider and a grid worker have none.
    other = tree.streets[2].pk
    for user, path, code in (
        (people.community, f"/api/needs/figures/?region={other}", "invalid"),
        (people.provider, f"/api/needs/figures/?region={district}", "invalid"),
        (people.provider, "/api/needs/figures/", "required"),
        (people.worker, "/api/needs/figures/", "required"),
    ):
        answer = as_(user).get(path)
        assert answer.status_code == 400 and errors(answer) == [(code, "region")], user
    backwards = as_(people.street).get("/api/needs/figures/?start=2026-02-01&end=2026-01-01")
    assert backwards.status_code == 400 and errors(backwards) == [("invalid", "start")]


# --- review findings -----------------------------------------------------------------------------


def test_a_neighbouring_communitys_provider_serving_this_one_is_dispatched_to(
    tree, people, accepted_need, as_
):
    """A co-building unit registered next door whose offer's area takes in this community."""
    neighbour = add_provider(
        tree.communities[(1, 2)],
        location=centre_of(tree.grids[(1, 2, 1)]),
        name="区职业教育中心党支部",
        provider_kind="co_building",
        area=[tree.communities[(1, 1)], tree.communities[(1, 2)]],
    )
    community = as_(people.community)
    assert community.get(f"/api/needs/providers/{neighbour.pk}/").status_code == 404
    [row] = community.get(f"/api/needs/{accepted_need.pk}/candidates/").json()
    assert (row["provider"]["name"], row["eligible"]) == ("区职业教育中心党支部", True)
    sent = send_dispatch(community, accepted_need, neighbour)
    assert sent.status_code == 200, sent.json()
    assert sent.json()["dispatch"]["provider"] == neighbour.pk


def test_candidates_mask_people_of_other_jurisdictions(tree, people, volunteer, accepted_need, as_):
    stranger = add_provider(
        tree.communities[(1, 2)], location=centre_of(tree.grids[(1, 2, 1)]), name="王斌海"
    )
    rows = as_(people.community).get(f"/api/needs/{accepted_need.pk}/candidates/").json()
    names = {r["provider"]["id"]: (r["provider"]["name"], r["reason"]) for r in rows}
    assert names[volunteer.pk] == ("张志愿", "")
    assert names[stranger.pk] == ("王**", "outside_area")


def test_a_provider_reads_neither_another_providers_steps_nor_its_account(
    tree, people, accepted_need, as_
):
    first = add_provider(
        tree.communities[(1, 1)], location=centre_of(tree.grids[(1, 1, 2)]), name="审查志愿者"
    )
    phone_account = User.objects.create_user("13512340001", password="x", role=Role.PROVIDER)
    first.users.add(phone_account)
    second = add_provider(
        tree.communities[(1, 1)],
        people.provider,
        location=centre_of(tree.grids[(1, 1, 1)]),
        name="冯玉涛",
    )
    community = as_(people.community)
    row = send_dispatch(community, accepted_need, first).json()["dispatch"]
    declined = as_(phone_account).post(
        f"/api/needs/dispatches/{row['id']}/decline/",
        {"version": row["version"], "reason": "没时间"},
        format="json",
    )
    assert declined.status_code == 200
    need = community.get(f"/api/needs/{accepted_need.pk}/").json()
    assert "13512340001" in [e["actor"] for e in need["events"]]  # the community sees who
    community.post(
        f"/api/needs/{accepted_need.pk}/dispatch/",
        {"provider": second.pk, "version": need["version"]},
        format="json",
    )
    mine = as_(people.provider).get(f"/api/needs/{accepted_need.pk}/")
    text = mine.content.decode()
    assert "13512340001" not in text and "没时间" not in text and "审" not in text
    assert [e["action"] for e in mine.json()["events"]] == ["raised", "accepted", "dispatched"]
    # The district centre (no personal data) reads the account masked.
    district = as_(people.district).get(f"/api/needs/{accepted_need.pk}/").json()
    assert "135****0001" in [e["actor"] for e in district["events"]]
    assert "13512340001" not in str(district)


def test_not_found_and_bad_filters_speak_the_users_language(people, raise_need, as_, settings):
    need = raise_need()
    client = as_(people.community)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for path, message in (
        ("/api/needs/999999/", "There is no such need."),
        ("/api/needs/dispatches/999999/", "There is no such dispatch."),
        ("/api/needs/providers/999999/", "There is no such provider."),
    ):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.json()["errors"][0]["message"] == message
    hidden = as_(people.other_community).get(f"/api/needs/{need.pk}/")
    assert hidden.status_code == 404
    assert_chinese(hidden.json()["errors"][0]["message"])
    maybe = client.get("/api/needs/?overdue=maybe")
    assert maybe.status_code == 400 and errors(maybe) == [("invalid", "overdue")]
    assert client.get("/api/needs/?overdue=false").json()["count"] == 1
    unnamed = as_(people.admin).get("/api/needs/figures/")
    assert unnamed.status_code == 400 and errors(unnamed) == [("required", "region")]


def test_a_patch_naming_what_it_cannot_change_is_refused(people, raise_need, as_):
    need = raise_need()
    answer = as_(people.community).patch(
        f"/api/needs/{need.pk}/", {"version": 1, "status": "done", "satisfaction": 5}, format="json"
    )
    assert answer.status_code == 400
    assert errors(answer) == [("unknown_field", "satisfaction"), ("unknown_field", "status")]
    assert Need.objects.get(pk=need.pk).version == 1


def test_the_provider_keeps_the_contact_a_week_after_the_need_is_done(
    people, volunteer, accepted_need, as_
):
    community, provider = as_(people.community), as_(people.provider)
    row = send_dispatch(community, accepted_need, volunteer).json()["dispatch"]
    taken = provider.post(
        f"/api/needs/dispatches/{row['id']}/accept/", {"version": 1}, format="json"
    ).json()
    provider.post(
        f"/api/needs/dispatches/{row['id']}/report/",
        {"version": taken["version"], "report": "已上门", "hours": "1"},
        format="json",
    )
    need = Need.objects.get(pk=accepted_need.pk)
    as_(people.worker).post(
        f"/api/needs/{need.pk}/confirm/",
        {"version": need.version, "satisfaction": 4},
        format="json",
    )
    assert provider.get(f"/api/needs/{need.pk}/").json()["contact_phone"] == "13912345678"
    Need.objects.filter(pk=need.pk).update(confirmed_at=timezone.now() - dt.timedelta(days=8))
    assert provider.get(f"/api/needs/{need.pk}/").json()["contact_phone"] == "139****5678"
