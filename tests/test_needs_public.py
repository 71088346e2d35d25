"""The public doors of the needs app over HTTP (issue #20): the form behind the QR on a grid's
notice board and the 双报到 registration. No login, no CSRF; per-address rate limits counted
from the database under a lock; size limits naming the field; a forged key is 404; nothing a
resident sends is shown before the community has reviewed it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import threading

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from grids.models import Role, User
from needs.models import Need, NeedSource, NeedStatus, Provider, ProviderStatus
from needs.services import public
from tests.needs_fixtures import centre_of
from tests.test_import_words import assert_chinese

ADDRESS = "10.1.2.3"


def png(name="p.png", size=(40, 30)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "teal").save(data, "PNG")
    data.seek(0)
    data.name = name
    return data


def need_body(**fields) -> dict:
    return {
        "kind": "elderly",
        "title": "楼道灯坏了，老人夜里看不见",
        "description": "三单元二楼",
        "contact_name": "李阿姨",
        "contact_phone": "138 1234 5678",
    } | fields


def join_body(**fields) -> dict:
    return {
        "kind": "party_member",
        "name": "赵党员",
        "organisation": "区财政局党支部",
        "phone": "13700001111",
        "password": "green-Tea-2026!",
        "offers": [{"kind": "tutoring", "availability": "周末全天"}],
    } | fields


@pytest.fixture
def grid(tree):
    return tree.grids[(1, 1, 1)]


@pytest.fixture
def key(grid):
    return public.intake_key(grid)


@pytest.fixture
def anyone():
    """A phone that scanned the QR: no session, CSRF checked as a browser's would be."""

    def client(address: str = ADDRESS) -> Client:
        return Client(enforce_csrf_checks=True, REMOTE_ADDR=address)

    return client


def post_need(client, key, **fields):
    return client.post(
        f"/api/needs/public/{key}/", need_body(**fields), content_type="application/json"
    )


def errors(response) -> list[dict]:
    body = response.json()
    assert body["status"] == response.status_code
    return body["errors"]


# --- the form and what it answers ------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_names_the_grid_and_its_kinds_and_never_a_need(anyone, key, grid, kinds):
    client = anyone()
    assert post_need(client, key).status_code == 201
    answer = client.get(f"/api/needs/public/{key}/")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"grid", "community", "kinds", "provider_kinds", "limits"}
    assert body["grid"] == {"name": grid.name}
    assert body["community"] == {"name": grid.community.name}
    assert len(body["kinds"]) == 15 and body["kinds"][0].keys() == {"code", "name", "description"}
    assert body["limits"]["photos"] == 3 and body["limits"]["title"] == 60
    # What was just sent is nowhere in what anyone without a login can read.
    assert "楼道灯" not in answer.content.decode() and "138" not in answer.content.decode()


@pytest.mark.django_db
def test_a_need_is_answered_with_its_number_only(anyone, key, grid, kinds, settings):
    response = post_need(anyone(), key)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"number", "status"} and body["status"] == "submitted"
    need = Need.objects.get(number=body["number"])
    assert (need.status, need.source, need.grid, need.raised_by) == (
        NeedStatus.SUBMITTED,
        NeedSource.PUBLIC,
        grid,
        None,
    )
    # The phone in one written form; the address only as its keyed hash.
    assert need.contact_phone == "13812345678"
    expected = hmac.new(settings.SECRET_KEY.encode(), ADDRESS.encode(), hashlib.sha256)
    assert need.submitter == expected.hexdigest()


@pytest.mark.django_db
def test_a_need_with_photos_and_a_point_in_the_grids_community(anyone, key, grid, kinds):
    point = centre_of(grid)
    response = anyone().post(
        f"/api/needs/public/{key}/",
        need_body(photos=[png("a.png"), png("b.png")], address="幸福路3号")
        | {"location": f'{{"type": "Point", "coordinates": [{point.x}, {point.y}]}}'},
    )
    assert response.status_code == 201, response.content
    need = Need.objects.get(number=response.json()["number"])
    assert need.photos.count() == 2 and need.location is not None


@pytest.mark.django_db
def test_a_point_outside_the_grids_community_is_refused(anyone, key, tree, kinds):
    far = centre_of(tree.grids[(2, 2, 1)])
    response = post_need(anyone(), key, location={"type": "Point", "coordinates": [far.x, far.y]})
    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in errors(response)] == [
        ("outside_community", "location")
    ]
    assert not Need.objects.exists()


@pytest.mark.django_db
def test_a_forged_or_unknown_key_is_404(anyone, key, grid, kinds):
    client = anyone()
    forged = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    unknown = signing.Signer(salt=public.SALT).sign("999999")
    other_salt = signing.Signer(salt="something.else").sign(str(grid.pk))
    for bad in (forged, unknown, other_salt, "1", "x:y"):
        for path in (f"/api/needs/public/{bad}/", f"/api/needs/join/{bad}/"):
            assert client.get(path).status_code == 404, (bad, path)
            response = client.post(path, need_body(), content_type="application/json")
            assert response.status_code == 404 and errors(response)[0]["code"] == "not_found"
    assert not Need.objects.exists()
    assert public.grid_for_key(key) == grid


# --- rate limits ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_address_gets_five_an_hour_then_429_and_another_address_still_passes(
    anyone, key, kinds, settings
):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 5
    client = anyone()
    for n in range(5):
        assert post_need(client, key, title=f"需求{n}").status_code == 201
    refused = post_need(client, key, title="第六个")
    assert refused.status_code == 429
    assert [e["code"] for e in errors(refused)] == ["rate_limited"]
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "5" in errors(refused)[0]["message"]
    assert Need.objects.count() == 5
    assert post_need(anyone("10.1.2.4"), key).status_code == 201


@pytest.mark.django_db
def test_retry_after_is_when_the_oldest_post_leaves_the_hour(anyone, key, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 2
    client = anyone()
    assert post_need(client, key).status_code == 201
    assert post_need(client, key).status_code == 201
    # The first one was 50 minutes ago: it leaves the hour in 10 minutes.
    first = Need.objects.order_by("pk").first()
    Need.objects.filter(pk=first.pk).update(raised_at=timezone.now() - dt.timedelta(minutes=50))
    refused = post_need(client, key)
    assert refused.status_code == 429
    assert 540 <= int(refused["Retry-After"]) <= 600
    # Older than an hour, it no longer counts for the hour.
    Need.objects.filter(pk=first.pk).update(raised_at=timezone.now() - dt.timedelta(minutes=61))
    assert post_need(client, key).status_code == 201


@pytest.mark.django_db
def test_the_day_limit_counts_the_whole_day(anyone, key, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 100
    settings.GRIDLINE_NEEDS_PUBLIC_PER_DAY = 3
    client = anyone()
    for _n in range(3):
        assert post_need(client, key).status_code == 201
    Need.objects.update(raised_at=timezone.now() - dt.timedelta(hours=5))
    refused = post_need(client, key)
    assert refused.status_code == 429
    assert errors(refused)[0]["window"] == "day"
    assert 18 * 3600 <= int(refused["Retry-After"]) <= 19 * 3600 + 60


@pytest.mark.django_db
def test_behind_a_proxy_the_address_the_proxy_saw_is_counted(anyone, key, kinds, settings):
    settings.GRIDLINE_TRUSTED_PROXIES = 1
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 1
    proxy = anyone("127.0.0.1")

    def post(forwarded):
        return proxy.post(
            f"/api/needs/public/{key}/",
            need_body(),
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    assert post("10.0.0.7").status_code == 201
    # A client that claims another address in front of the proxy's entry is still itself.
    assert post("1.2.3.4, 10.0.0.7").status_code == 429
    assert post("10.0.0.8").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_from_one_address_cannot_both_pass(tree, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 1
    key = public.intake_key(tree.grids[(1, 1, 1)])
    start = threading.Barrier(2)
    statuses: list[int] = []

    def post():
        try:
            start.wait()
            response = post_need(Client(REMOTE_ADDR=ADDRESS), key)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 429]
    assert Need.objects.count() == 1


# --- size limits ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"title": "长" * 61}, "title", "max_length"),
        ({"title": ""}, "title", "blank"),
        ({"description": "长" * 1001}, "description", "max_length"),
        ({"contact_name": "名" * 51}, "contact_name", "max_length"),
        ({"address": "址" * 201}, "address", "max_length"),
        ({"contact_phone": "12345"}, "contact_phone", "invalid_phone"),
        ({"contact_phone": "１３８１２３４５６７８"}, "contact_phone", "invalid_phone"),
        ({"contact_phone": ""}, "contact_phone", "blank"),
        ({"kind": "no-such-kind"}, "kind", "does_not_exist"),
        ({"urgency": "yesterday"}, "urgency", "invalid_choice"),
        ({"location": {"type": "Point", "coordinates": [999, 999]}}, "location", "out_of_range"),
    ],
)
def test_bad_text_is_refused_naming_the_field(anyone, key, kinds, fields, field, code):
    response = post_need(anyone(), key, **fields)
    assert response.status_code == 400, response.content
    assert (field, code) in [(e.get("field"), e["code"]) for e in errors(response)]
    assert not Need.objects.exists()


@pytest.mark.django_db
def test_phones_are_kept_in_one_written_form(anyone, key, kinds):
    for written, kept in (
        ("+86 139-1234-5678", "13912345678"),
        ("(023) 4987 6543", "023-49876543"),
        ("0871-12345678转801", "0871-12345678-801"),
    ):
        response = post_need(anyone(), key, contact_phone=written)
        assert response.status_code == 201, response.content
        assert Need.objects.get(number=response.json()["number"]).contact_phone == kept


@pytest.mark.django_db
def test_too_many_photos_and_a_bad_photo_name_the_field(anyone, key, kinds, settings):
    client = anyone()
    four = client.post(
        f"/api/needs/public/{key}/", need_body(photos=[png(f"{n}.png") for n in range(4)])
    )
    assert four.status_code == 400
    assert [(e["code"], e["field"]) for e in errors(four)] == [("too_many_photos", "photos")]
    text = io.BytesIO(b"not an image at all")
    text.name = "photo.jpg"
    bad = client.post(f"/api/needs/public/{key}/", need_body(photos=[png(), text]))
    assert bad.status_code == 400
    assert [(e["code"], e["field"]) for e in errors(bad)] == [("not_an_image", "photos")]
    assert not Need.objects.exists()


@pytest.mark.django_db
def test_an_oversize_body_is_refused_before_it_is_read(anyone, key, kinds, settings):
    settings.GRIDLINE_PHOTO_MAX_MB = 0.05
    settings.GRIDLINE_NEEDS_PHOTOS_MAX = 1
    client = anyone()
    big = io.BytesIO(b"\0" * 400_000)
    big.name = "big.png"
    response = client.post(f"/api/needs/public/{key}/", need_body(photos=[big]))
    assert response.status_code == 413
    [error] = errors(response)
    assert (error["code"], error["field"]) == ("too_large", "photos")
    assert error["limit"] == public.body_limit(True)
    huge = post_need(client, key, description="字" * 40_000)
    assert huge.status_code == 413 and errors(huge)[0]["field"] == "body"
    assert not Need.objects.exists()


@pytest.mark.django_db
def test_refused_posts_do_not_use_up_the_limit(anyone, key, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 1
    client = anyone()
    for _n in range(3):
        assert post_need(client, key, title="").status_code == 400
    assert post_need(client, key).status_code == 201


# --- 双报到 registration ------------------------------------------------------------------------


def join(client, key, **fields):
    return client.post(
        f"/api/needs/join/{key}/", join_body(**fields), content_type="application/json"
    )


@pytest.mark.django_db
def test_registration_is_pending_until_the_community_confirms(anyone, api, key, grid, kinds):
    response = join(anyone(), key)
    assert response.status_code == 201, response.content
    assert response.json() == {"username": "13700001111", "status": "pending"}
    provider = Provider.objects.get()
    assert (provider.status, provider.community, provider.kind) == (
        ProviderStatus.PENDING,
        grid.community,
        "party_member",
    )
    assert [o.kind.code for o in provider.offers.all()] == ["tutoring"]
    account = provider.users.get()
    assert (account.username, account.role) == ("13700001111", Role.PROVIDER)

    # The new account signs in as a phone does and finds its inbox empty, and why.
    client = Client(REMOTE_ADDR=ADDRESS)
    token = client.post(
        "/api/auth/token/",
        {"username": "13700001111", "password": "green-Tea-2026!"},
        content_type="application/json",
    )
    assert token.status_code in (200, 201), token.content
    auth = {"HTTP_AUTHORIZATION": f"Token {token.json()['token']}"}
    inbox = client.get("/api/needs/dispatches/", HTTP_ACCEPT_LANGUAGE="zh-hans", **auth)
    assert inbox.status_code == 200
    body = inbox.json()
    assert body["count"] == 0 and body["results"] == []
    assert [(p["status"], p["status_label"]) for p in body["providers"]] == [("pending", "待确认")]
    # It sees no needs, households or regions.
    for path in ("/api/needs/", "/api/households/"):
        listed = client.get(path, **auth)
        assert listed.status_code == 200
        assert listed.json()["count"] == 0, path


@pytest.mark.django_db
def test_a_phone_registered_already_is_refused(anyone, key, kinds, make_user):
    assert join(anyone(), key).status_code == 201
    again = join(anyone("10.1.2.9"), key, phone="137 0000 1111", name="另一人")
    assert again.status_code == 400
    assert [(e["code"], e["field"]) for e in errors(again)] == [("already_registered", "phone")]
    assert Provider.objects.count() == 1 and User.objects.filter(role=Role.PROVIDER).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password": "123"}, "password"),
        ({"password": "13700001111"}, "password"),
        ({"phone": "abc"}, "phone"),
        ({"kind": "unit"}, "kind"),
        ({"name": ""}, "name"),
        ({"offers": [{"kind": "nope"}]}, "offers.kind"),
    ],
)
def test_bad_registrations_name_the_field(anyone, key, kinds, fields, field):
    response = join(anyone(), key, **fields)
    assert response.status_code == 400, response.content
    assert field in [e.get("field") for e in errors(response)]
    assert not Provider.objects.exists() and not User.objects.filter(role=Role.PROVIDER).exists()


@pytest.mark.django_db
def test_registrations_are_limited_apart_from_needs(anyone, key, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 2
    client = anyone()
    assert post_need(client, key).status_code == 201
    assert post_need(client, key).status_code == 201
    assert join(client, key, phone="13700000001").status_code == 201
    assert join(client, key, phone="13700000002").status_code == 201
    refused = join(client, key, phone="13700000003")
    assert refused.status_code == 429 and refused.has_header("Retry-After")
    assert errors(refused)[0]["code"] == "rate_limited"
    assert Provider.objects.count() == 2


@pytest.mark.django_db
def test_the_public_refusals_speak_chinese(anyone, key, kinds, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 1
    client = anyone()
    assert post_need(client, key).status_code == 201
    [limited] = errors(post_need(client, key))
    assert limited["message"].startswith("此网络提交次数过多：每小时最多 1 次。")
    assert_chinese(limited["message"])
    [phone] = errors(post_need(anyone("10.1.2.5"), key, contact_phone="12345"))
    assert phone["field"] == "contact_phone"
    assert_chinese(phone["message"])
    [forged] = errors(client.get("/api/needs/public/1:forged/"))
    assert forged["message"] == "这个二维码已失效，请向社区索取新的二维码。"
