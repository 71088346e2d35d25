"""Needs from the phone (#20): `need.raise` with photos and `need.confirm` with the resident's
satisfaction through the field outbox, with the receipts' rules of every kind: a resend is
one need, a stale confirmation is a 409 with the need as it is now, another grid's need is
"not found", refusals name the field, junk is never a 500; and the pull's `needs` set."""

from __future__ import annotations

import pytest

from needs.models import Need, NeedPhoto, NeedSource, NeedStatus
from tests.conftest import centre_of
from tests.field_push import item, lonlat, photo, push, send
from tests.needs_phone_fixtures import need_at, provider_with_account, reported, seed_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kinds(db):
    seed_kinds()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def side(tree, users):
    return provider_with_account(tree, users.community)


def raise_data(tree, **changes) -> dict:
    return {
        "kind": "elderly",
        "title": "独居老人需要送餐",
        "description": "行动不便，每天中午一餐",
        "urgency": "urgent",
        "address": "测试路1号3单元502",
        "contact_name": "王大妈",
        "contact_phone": "13712345678",
        **lonlat(centre_of(tree.grids[(1, 1, 1)])),
        **changes,
    }


def test_a_need_is_raised_with_its_photos(tree, users, field_client, media):
    body = item("need.raise", raise_data(tree))
    answer = send(field_client, body, photos=[photo("a.jpg"), photo("b.jpg")])
    assert answer.status_code == 201, answer.content
    result = answer.json()
    assert result["set"] == "needs" and result["resent"] is False
    record = result["record"]
    need = Need.objects.get(pk=record["id"])
    assert need.client_key == body["client_key"]
    assert need.source == NeedSource.GRID_WORKER and need.raised_by == users.worker
    assert need.status == NeedStatus.SUBMITTED and need.grid == tree.grids[(1, 1, 1)]
    assert need.urgency == "urgent" and need.contact_phone == "13712345678"
    assert NeedPhoto.objects.filter(need=need, stage="raised").count() == 2
    # The answer is the pull's own record: what the phone upserts is what the next pull sends.
    assert record["number"] == need.number and record["status_name"]
    assert len(record["photos"]) == 2 and record["kind_name"] == "助老助餐"
    pulled = field_client.get("/api/field/sync/").json()["sets"]["needs"]["upsert"]
    assert pulled == [record]


def test_a_resend_is_one_need_with_the_same_answer(tree, field_client, media):
    body = item("need.raise", raise_data(tree))
    first = send(field_client, body, photos=[photo()])
    again = send(field_client, body, photos=[photo()])
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json() | {"resent": True}
    assert Need.objects.count() == 1 and NeedPhoto.objects.count() == 1


def test_a_need_without_a_point_is_the_worker_s_grid(tree, field_client):
    answer = push(field_client, "need.raise", {"kind": "goods", "title": "需要一台轮椅"})
    assert answer.status_code == 201, answer.content
    need = Need.objects.get()
    assert need.grid == tree.grids[(1, 1, 1)] and need.location is None


def test_a_need_of_the_worker_s_household(tree, field_client, add_household):
    home = add_household(centre_of(tree.grids[(1, 1, 1)]), address="测试路2号")
    answer = push(
        field_client, "need.raise", {"kind": "goods", "title": "轮椅", "household_id": home.pk}
    )
    assert answer.status_code == 201, answer.content
    assert Need.objects.get().household == home


def test_the_worker_confirms_with_satisfaction(tree, users, side, field_client):
    need = reported(need_at(tree, users.worker), users.community, side)
    answer = push(
        field_client,
        "need.confirm",
        {"satisfaction": 5, "feedback": "很满意"},
        target=need.pk,
        base_version=str(need.version),
    )
    assert answer.status_code == 201, answer.content
    need.refresh_from_db()
    assert need.status == NeedStatus.DONE and need.satisfaction == 5
    assert need.confirmed_by == users.worker and need.feedback == "很满意"
    record = answer.json()["record"]
    assert record["status"] == "done" and record["satisfaction"] == 5
    assert record["version"] == str(need.version)
    assert record["provider_name"] and record["hours"] == "3.5" and record["report"] == "送餐一周"


def test_a_stale_confirmation_is_a_conflict_with_the_need_as_it_is(tree, users, side, field_client):
    need = reported(need_at(tree, users.worker), users.community, side)
    answer = push(
        field_client,
        "need.confirm",
        {"satisfaction": 4},
        target=need.pk,
        base_version=str(need.version - 1),
    )
    assert answer.status_code == 409, answer.content
    body = answer.json()
    assert body["set"] == "needs" and body["current"]["id"] == need.pk
    assert body["current_version"] == str(need.version)
    need.refresh_from_db()
    assert need.status == NeedStatus.REPORTED and need.satisfaction is None


def test_a_need_not_reported_yet_cannot_be_confirmed(tree, users, field_client):
    need = need_at(tree, users.worker)
    answer = push(
        field_client, "need.confirm", {"satisfaction": 3}, target=need.pk, base_version="1"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "wrong_status"


def test_another_grid_s_need_is_out_of_reach(tree, users, field_client):
    far = need_at(tree, users.other_worker, grid=(2, 2, 2), title="别的网格")
    answer = push(
        field_client, "need.confirm", {"satisfaction": 5}, target=far.pk, base_version="1"
    )
    assert answer.status_code == 404
    error = answer.json()["errors"][0]
    assert error["code"] == "not_found" and "别的网格" not in answer.content.decode()
    # Raising one at a point of another grid is refused by the service, naming the location.
    answer = push(
        field_client, "need.raise", raise_data(tree, **lonlat(centre_of(tree.grids[(2, 2, 2)])))
    )
    assert answer.status_code == 403, answer.content
    assert answer.json()["errors"][0]["field"] == "location"
    assert Need.objects.count() == 1
    pulled = field_client.get("/api/field/sync/").json()["sets"]["needs"]
    assert far.pk not in pulled["ids"]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"kind": "no-such-kind"}, "invalid", "kind"),
        ({"kind": None}, "required", "kind"),
        ({"title": ""}, "required", "title"),
        ({"title": "长" * 61}, "too_long", "title"),
        ({"urgency": "panic"}, "invalid", "urgency"),
        ({"lon": 200}, "invalid", "lon"),
        ({"lat": None}, "required", "lat"),
        ({"household_id": "x"}, "invalid", "household_id"),
        ({"colour": "red"}, "unknown_field", "colour"),
    ],
)
def test_a_bad_need_names_the_field(tree, field_client, change, code, field):
    answer = push(field_client, "need.raise", raise_data(tree, **change))
    assert answer.status_code == 400, answer.content
    error = answer.json()["errors"][0]
    assert (error["code"], error["field"]) == (code, field)
    assert not Need.objects.exists()


@pytest.mark.parametrize("score", [0, 6, "5", 2.5, True, None, "非常满意"])
def test_satisfaction_is_one_to_five(tree, users, side, field_client, score):
    need = reported(need_at(tree, users.worker), users.community, side)
    answer = push(
        field_client,
        "need.confirm",
        {"satisfaction": score},
        target=need.pk,
        base_version=str(need.version),
    )
    if score == "5":
        # The phone sends a number; its text form is read the same.
        assert answer.status_code == 201
        return
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "satisfaction"


JUNK = [None, [], {"a": 1}, "²", -1, "x" * 3000]


def test_junk_in_any_field_is_a_named_refusal_never_a_500(tree, users, field_client):
    need = need_at(tree, users.worker)
    for kind, fields in {
        "need.raise": ["kind", "title", "description", "urgency", "lon", "household_id"],
        "need.confirm": ["satisfaction", "feedback"],
    }.items():
        for name in fields:
            for junk in JUNK:
                data = raise_data(tree) if kind == "need.raise" else {"satisfaction": 5}
                answer = push(
                    field_client,
                    kind,
                    data | {name: junk},
                    target=need.pk if kind == "need.confirm" else None,
                    base_version=junk if isinstance(junk, str) else "1",
                )
                assert answer.status_code < 500, (kind, name, junk)
                if answer.status_code >= 400:
                    assert answer.json()["errors"][0]["message"], (kind, name, junk)


def test_the_pull_masks_nothing_for_the_worker_and_drops_old_closed_needs(
    tree, users, side, field_client
):
    import datetime as dt

    from django.utils import timezone

    open_need = need_at(tree, users.worker, title="开着的")
    old = need_at(tree, users.worker, title="很久以前")
    Need.objects.filter(pk=old.pk).update(
        status=NeedStatus.DONE, updated_at=timezone.now() - dt.timedelta(days=31)
    )
    recent = need_at(tree, users.worker, title="刚完成")
    Need.objects.filter(pk=recent.pk).update(status=NeedStatus.DONE)
    needs = field_client.get("/api/field/sync/").json()["sets"]["needs"]
    assert set(needs["ids"]) == {open_need.pk, recent.pk}
    (record,) = [r for r in needs["upsert"] if r["id"] == open_need.pk]
    assert record["contact_name"] == "王大妈" and record["contact_phone"] == "13712345678"
