"""The needs app's phone pages on the server (#20): the public need form and 双报到 registration
(no login, keyed by the QR's signed grid, rate-limited per address, sized), and the
provider's inbox (接单 / 退单 / 服务反馈 as plain form posts, versions checked, contact
masked until accepted). The browser tests walk the same pages at 390×844."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from grids.models import Role, User
from needs.models import Dispatch, DispatchStatus, Need, NeedPhoto, Provider, ProviderStatus
from needs.services.public import intake_key
from tests.field_push import photo
from tests.needs_phone_fixtures import (
    PASSWORD,
    dispatched,
    need_at,
    provider_with_account,
    seed_kinds,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kinds(db):
    seed_kinds()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def key(tree):
    return intake_key(tree.grids[(1, 1, 1)])


def need_post(**changes) -> dict:
    return {
        "kind": "elderly",
        "title": "家里老人需要助餐",
        "description": "",
        "urgency": "normal",
        "address": "测试路1号3单元502",
        "contact_name": "王大妈",
        "contact_phone": "137 1234 5678",
        **changes,
    }


def test_the_public_form_opens_without_a_login_naming_grid_and_community(tree, key):
    page = Client().get(f"/needs/p/{key}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "网格111" in text and "社区11" in text
    assert 'name="kind"' in text and "助老助餐" in text
    # No map: tiles need a login; the position comes from the phone's own geolocation.
    assert "maplibre" not in text


def test_a_forged_or_unknown_key_is_not_found(tree, key):
    assert Client().get(f"/needs/p/{key}x/").status_code == 404
    assert Client().get("/needs/p/12:abc/").status_code == 404
    assert Client().get(f"/needs/join/{key}x/").status_code == 404


def test_a_resident_s_need_is_submitted_and_answered_with_its_number(tree, key, media):
    answer = Client().post(f"/needs/p/{key}/", need_post(photos=[photo()]))
    assert answer.status_code == 200, answer.content.decode()
    need = Need.objects.get()
    assert need.source == "public" and need.status == "submitted" and need.raised_by is None
    assert need.grid == tree.grids[(1, 1, 1)] and need.contact_phone == "13712345678"
    assert len(need.submitter) == 64 and "127.0.0.1" not in need.submitter
    assert NeedPhoto.objects.filter(need=need).count() == 1
    text = answer.content.decode()
    assert need.number in text and "王大妈" not in text


def test_a_position_in_the_community_keys_the_grid_and_outside_is_refused(tree, key):
    from tests.conftest import centre_of

    inside = centre_of(tree.grids[(1, 1, 2)])
    answer = Client().post(f"/needs/p/{key}/", need_post(lon=inside.x, lat=inside.y))
    assert answer.status_code == 200
    assert Need.objects.get().grid == tree.grids[(1, 1, 2)]
    far = centre_of(tree.grids[(2, 2, 2)])
    answer = Client().post(f"/needs/p/{key}/", need_post(lon=far.x, lat=far.y))
    assert answer.status_code == 400
    assert Need.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "nope"}, "kind"),
        ({"title": ""}, "title"),
        ({"title": "长" * 61}, "title"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"address": ""}, "address"),
        ({"lon": "106.0"}, None),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(tree, key, change, field):
    answer = Client().post(f"/needs/p/{key}/", need_post(**change))
    assert answer.status_code == 400
    text = answer.content.decode()
    assert 'data-testid="form-errors"' in text
    if field:
        assert f'data-field="{field}"' in text and "nf-error" in text
    assert not Need.objects.exists()


def test_the_sixth_post_in_an_hour_is_refused_in_chinese(tree, key, settings):
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 5
    client = Client()
    for n in range(5):
        assert client.post(f"/needs/p/{key}/", need_post(title=f"需求{n}")).status_code == 200
    answer = client.post(f"/needs/p/{key}/", need_post(title="第六条"))
    assert answer.status_code == 429 and int(answer["Retry-After"]) > 0
    assert "每小时最多 5 条" in answer.content.decode() or "5" in answer.content.decode()
    assert Need.objects.count() == 5


def test_too_many_photos_are_refused(tree, key, settings, media):
    settings.GRIDLINE_NEEDS_PHOTOS_MAX = 1
    answer = Client().post(f"/needs/p/{key}/", need_post(photos=[photo(), photo("b.jpg")]))
    assert answer.status_code == 400 and not Need.objects.exists()


def join_post(**changes) -> dict:
    return {
        "kind": "party_member",
        "name": "赵党员",
        "organisation": "区税务局党支部",
        "phone": "13900002222",
        "password": "Long-enough-9",
        "password_again": "Long-enough-9",
        "offers": ["legal", "policy"],
        "availability": "周末全天",
        **changes,
    }


def test_a_party_member_registers_and_waits_for_the_community(tree, key):
    client = Client()
    answer = client.post(f"/needs/join/{key}/", join_post())
    assert answer.status_code == 200, answer.content.decode()
    provider = Provider.objects.get()
    assert provider.status == ProviderStatus.PENDING and provider.kind == "party_member"
    assert provider.community == tree.communities[(1, 1)]
    assert sorted(provider.offers.values_list("kind__code", flat=True)) == ["legal", "policy"]
    user = provider.users.get()
    assert user.username == "13900002222" and user.role == Role.PROVIDER
    assert "13900002222" in answer.content.decode()
    # The account logs in at once and lands on the inbox saying it waits.
    assert client.login(username="13900002222", password="Long-enough-9")
    inbox = client.get("/needs/inbox/")
    assert inbox.status_code == 200 and 'data-testid="pending"' in inbox.content.decode()
    again = Client().post(f"/needs/join/{key}/", join_post())
    assert again.status_code == 400 and Provider.objects.count() == 1


def test_registration_refusals_name_the_field(tree, key):
    answer = Client().post(f"/needs/join/{key}/", join_post(password_again="other-pw-12"))
    assert answer.status_code == 400 and 'data-field="password_again"' in answer.content.decode()
    answer = Client().post(
        f"/needs/join/{key}/", join_post(password="12345678", password_again="12345678")
    )
    assert answer.status_code == 400 and not Provider.objects.exists()


# --- the provider's inbox ---------------------------------------------------------------------


@pytest.fixture
def side(tree, users):
    return provider_with_account(tree, users.community)


def provider_client(side) -> Client:
    client = Client()
    assert client.login(username=side.user.username, password=PASSWORD)
    return client


def test_the_inbox_lists_the_dispatch_with_the_contact_masked(tree, users, side):
    d = dispatched(need_at(tree, users.worker), users.community, side)
    client = provider_client(side)
    inbox = client.get("/needs/inbox/")
    assert inbox.status_code == 200
    assert f'data-dispatch="{d.pk}"' in inbox.content.decode()
    detail = client.get(f"/needs/inbox/{d.pk}/").content.decode()
    assert "13712345678" not in detail and "137****5678" in detail
    answer = client.post(f"/needs/inbox/{d.pk}/accept/", {"version": d.version})
    assert answer.status_code == 302
    d.refresh_from_db()
    assert d.status == DispatchStatus.ACCEPTED and d.need.status == "taken"
    detail = client.get(f"/needs/inbox/{d.pk}/").content.decode()
    assert "13712345678" in detail and 'href="tel:13712345678"' in detail


def test_a_report_needs_hours_and_text_and_takes_photos(tree, users, side, media):
    d = dispatched(need_at(tree, users.worker), users.community, side)
    client = provider_client(side)
    client.post(f"/needs/inbox/{d.pk}/accept/", {"version": d.version})
    d.refresh_from_db()
    bad = client.post(f"/needs/inbox/{d.pk}/report/", {"version": d.version, "report": "送了"})
    assert bad.status_code == 400 and 'data-testid="form-errors"' in bad.content.decode()
    answer = client.post(
        f"/needs/inbox/{d.pk}/report/",
        {"version": d.version, "report": "送餐三次", "hours": "2.5", "photos": [photo()]},
    )
    assert answer.status_code == 302
    d.refresh_from_db()
    assert d.status == DispatchStatus.REPORTED and str(d.hours) == "2.5"
    assert NeedPhoto.objects.filter(dispatch=d, stage="report").count() == 1


def test_a_decline_needs_a_reason_and_goes_back_to_the_community(tree, users, side):
    d = dispatched(need_at(tree, users.worker), users.community, side)
    client = provider_client(side)
    assert client.post(f"/needs/inbox/{d.pk}/decline/", {"version": d.version}).status_code == 400
    answer = client.post(f"/needs/inbox/{d.pk}/decline/", {"version": d.version, "reason": "外出"})
    assert answer.status_code == 302
    d.refresh_from_db()
    assert d.status == DispatchStatus.DECLINED and d.need.status == "accepted"


def test_a_stale_page_is_told_and_nothing_changes(tree, users, side):
    d = dispatched(need_at(tree, users.worker), users.community, side)
    client = provider_client(side)
    answer = client.post(f"/needs/inbox/{d.pk}/accept/", {"version": d.version - 1 or 99})
    assert answer.status_code == 400
    assert Dispatch.objects.get(pk=d.pk).status == DispatchStatus.SENT


def test_another_provider_s_dispatch_is_not_found(tree, users, side):
    d = dispatched(need_at(tree, users.worker), users.community, side)
    other = User.objects.create_user(username="13911112222", password=PASSWORD, role=Role.PROVIDER)
    client = Client()
    client.login(username=other.username, password=PASSWORD)
    assert client.get(f"/needs/inbox/{d.pk}/").status_code == 404
    assert client.post(f"/needs/inbox/{d.pk}/accept/", {"version": d.version}).status_code == 404
    assert Dispatch.objects.get(pk=d.pk).status == DispatchStatus.SENT


def test_the_inbox_is_the_provider_s(users):
    anonymous = Client().get("/needs/inbox/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    staff = Client()
    staff.force_login(users.community)
    assert staff.get("/needs/inbox/").status_code == 302


def test_a_suspended_provider_still_sees_what_it_took(tree, users, side):
    from needs.services import providers

    d = dispatched(need_at(tree, users.worker), users.community, side)
    client = provider_client(side)
    client.post(f"/needs/inbox/{d.pk}/accept/", {"version": d.version})
    provider = Provider.objects.get(pk=side.provider.pk)
    providers.suspend(provider, users.community, provider.version, "暂停一个月")
    inbox = client.get("/needs/inbox/").content.decode()
    assert f'data-dispatch="{d.pk}"' in inbox and "nf-alert" in inbox
    # An old dispatch is still reachable by its link (a notification), outside the 30 days.
    Dispatch.objects.filter(pk=d.pk).update(dispatched_at=d.dispatched_at - dt.timedelta(days=60))
    assert client.get(f"/needs/inbox/{d.pk}/").status_code == 200
