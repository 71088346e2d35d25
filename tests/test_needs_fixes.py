"""Regressions of the #20 review (issue #20, FIX1): a suspended provider cannot 接单 (F10);
need photos are stored without metadata (F12); a provider's location must lie in its
community (F13); the Chinese password-length message (F13); the resident's 查询进度 (F3)."""

from __future__ import annotations

import io

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from needs.models import (
    Dispatch,
    DispatchStatus,
    Need,
    NeedAction,
    NeedEvent,
    NeedStatus,
    ProviderStatus,
)
from needs.services import dispatch, providers, review
from notifications.models import Notification
from tests.needs_fixtures import centre_of, refused
from tests.test_needs_models import registration

pytestmark = pytest.mark.django_db


# --- F10: suspended providers -------------------------------------------------------------------


def test_suspend_withdraws_the_dispatches_not_yet_accepted(needs_people, volunteer, raise_need):
    p = needs_people
    need = review.accept(n := raise_need(), p.community, n.version)
    sent = dispatch.send(need, volunteer, None, p.community, need.version)
    before = Notification.objects.filter(user=p.community).count()

    providers.suspend(volunteer, p.community, volunteer.version, "暂停一个月")

    sent.refresh_from_db()
    need.refresh_from_db()
    assert sent.status == DispatchStatus.WITHDRAWN and sent.decline_reason == "暂停一个月"
    assert need.status == NeedStatus.ACCEPTED  # 待派单 again
    event = NeedEvent.objects.filter(need=need).latest("pk")
    assert event.action == NeedAction.WITHDRAWN and event.comment == "暂停一个月"
    assert Notification.objects.filter(user=p.community).count() == before + 1
    # and the provider cannot 接单 what was withdrawn
    with refused("wrong_status"):
        dispatch.accept(sent, p.provider, sent.version)


def test_accept_refuses_a_provider_no_longer_confirmed(needs_people, volunteer, raise_need):
    """Suspended by any other path (admin): the sent dispatch stays, but 接单 is refused, so
    the provider never sees the resident's contact."""
    p = needs_people
    need = review.accept(n := raise_need(), p.community, n.version)
    sent = dispatch.send(need, volunteer, None, p.community, need.version)
    volunteer.status = ProviderStatus.SUSPENDED
    volunteer.save()
    with refused("provider_not_confirmed"):
        dispatch.accept(sent, p.provider, sent.version)
    sent.refresh_from_db()
    assert sent.status == DispatchStatus.SENT
    need.refresh_from_db()
    assert need.status == NeedStatus.DISPATCHED


def test_suspend_leaves_work_under_way(needs_people, volunteer, raise_need):
    p = needs_people
    need = review.accept(n := raise_need(), p.community, n.version)
    taken = dispatch.send(need, volunteer, None, p.community, need.version)
    taken = dispatch.accept(taken, p.provider, taken.version)
    providers.suspend(volunteer, p.community, volunteer.version)
    assert Dispatch.objects.get(pk=taken.pk).status == DispatchStatus.ACCEPTED


# --- F12: photos without metadata -------------------------------------------------------------


def camera_jpeg(size=(60, 40)) -> SimpleUploadedFile:
    """A JPEG as a phone writes it: make, model, a GPS IFD, and orientation 6 (turn 90°)."""
    image = Image.new("RGB", size, "red")
    exif = Image.Exif()
    exif[271] = "ReviewCam"
    exif[272] = "ModelX"
    exif[274] = 6
    exif[34853] = {1: "N", 2: (29.0, 30.0, 0.0), 3: "E", 4: (106.0, 33.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile("camera.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_need_photos_are_stored_without_exif_and_upright(raise_need, needs_people, volunteer):
    need = raise_need(photos=[camera_jpeg()])
    stored = need.photos.get()
    with stored.image.open("rb") as f, Image.open(f) as image:
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info
        # orientation 6 applied to the pixels: 60×40 stands as 40×60
        assert image.size == (40, 60)
    assert (stored.width, stored.height) == (40, 60)
    # the provider's report photos too
    p = needs_people
    need = review.accept(need, p.community, need.version)
    d = dispatch.send(need, volunteer, None, p.community, need.version)
    d = dispatch.accept(d, p.provider, d.version)
    dispatch.report(d, p.provider, d.version, "已送餐", "1.5", [camera_jpeg((30, 20))])
    report = need.photos.get(stage="report")
    with report.image.open("rb") as f, Image.open(f) as image:
        assert not image.getexif() and image.size == (20, 30)


def test_png_photos_keep_their_format_and_transparency(raise_need):
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(buffer, "PNG")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    stored = raise_need(photos=[upload]).photos.get()
    with stored.image.open("rb") as f, Image.open(f) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and image.size == (20, 10)
    assert stored.image.name.endswith(".png")


# --- F13: a provider's location lies in its community -------------------------------------------


BEIJING = Point(116.4, 39.9, srid=4326)


def test_register_refuses_a_location_outside_the_community(tree, kinds):
    with refused("outside_community"):
        providers.register(registration(tree, location=BEIJING))
    # inside the grids but another community
    with refused("outside_community"):
        providers.register(registration(tree, location=centre_of(tree.grids[(2, 2, 1)])))
    inside = providers.register(registration(tree, location=centre_of(tree.grids[(1, 1, 2)])))
    assert inside.grid == tree.grids[(1, 1, 2)]


def test_confirm_and_update_refuse_a_location_outside_the_community(tree, needs_people, kinds):
    p = needs_people
    pending = providers.register(registration(tree))
    with refused("outside_community"):
        providers.confirm(pending, p.community, pending.version, BEIJING)
    # a point stored before this rule (grid NULL) cannot be confirmed as it is
    pending.location = BEIJING
    pending.save()
    with refused("outside_community"):
        providers.confirm(pending, p.community, pending.version)
    pending.refresh_from_db()
    assert pending.status == ProviderStatus.PENDING
    confirmed = providers.confirm(
        pending, p.community, pending.version, centre_of(tree.grids[(1, 1, 1)])
    )
    assert confirmed.status == ProviderStatus.CONFIRMED and confirmed.grid_id
    with refused("outside_community"):
        providers.update(confirmed, p.community, confirmed.version, {"location": BEIJING})
    confirmed.refresh_from_db()
    assert confirmed.grid == tree.grids[(1, 1, 1)]


def test_password_too_short_is_chinese(tree, kinds):
    with translation.override("zh-hans"), refused("weak_password") as info:
        providers.register(registration(tree, password="a1-B"))
    message = info.value.problems[0].message
    assert "8" in message and "too short" not in message and "密码" in message


# --- F3: 查询进度 on the public door --------------------------------------------------------


@pytest.fixture
def public_need(tree, raise_need):
    from needs.models import NeedSource

    grid = tree.grids[(1, 1, 1)]
    need = raise_need(source=NeedSource.PUBLIC, grid=grid, submitter="c" * 64)
    return need


def status_url(grid) -> str:
    from needs.services import public

    return f"/needs/p/{public.intake_key(grid)}/status/"


@pytest.fixture
def fresh_limit():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_status_page_shows_status_kind_and_dates_only(client, tree, public_need, fresh_limit):
    url = status_url(tree.grids[(1, 1, 1)])
    page = client.get(url, {"number": public_need.number})
    assert page.status_code == 200
    assert public_need.number in page.content.decode()  # filled in from ?number=
    answer = client.post(url, {"number": public_need.number.lower(), "last4": "5678"})
    text = answer.content.decode()
    assert answer.status_code == 200 and 'data-testid="progress"' in text
    assert "待审核" in text and public_need.kind.name in text
    for private in ("王大妈", "13912345678", "每周两次", "帮独居老人买菜"):
        assert private not in text


def test_status_page_answers_the_same_for_a_wrong_number_or_digits(
    client, tree, public_need, fresh_limit
):
    url = status_url(tree.grids[(1, 1, 1)])
    wrong_digits = client.post(url, {"number": public_need.number, "last4": "0000"})
    unknown = client.post(url, {"number": "XQ209901010001", "last4": "5678"})
    assert wrong_digits.status_code == unknown.status_code == 404
    assert "没有找到" in wrong_digits.content.decode()
    assert client.post(url, {"number": public_need.number, "last4": "56a8"}).status_code == 400


def test_status_lookups_are_rate_limited(client, tree, public_need, fresh_limit):
    from needs.services import lookup

    url = status_url(tree.grids[(1, 1, 1)])
    for _ in range(lookup.PER_HOUR):
        assert client.post(url, {"number": public_need.number, "last4": "0000"}).status_code == 404
    limited = client.post(url, {"number": public_need.number, "last4": "5678"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert 'data-testid="progress"' not in limited.content.decode()


def test_thank_you_page_links_to_the_status_page(client, tree, kinds, fresh_limit):
    from needs.services import public

    grid = tree.grids[(1, 1, 1)]
    key = public.intake_key(grid)
    sent = client.post(
        f"/needs/p/{key}/",
        {
            "kind": "elderly",
            "title": "需要助餐",
            "urgency": "normal",
            "address": "1 栋 2 单元",
            "contact_name": "李阿姨",
            "contact_phone": "13912340000",
        },
    )
    text = sent.content.decode()
    assert sent.status_code == 200, text
    number = Need.objects.get(title="需要助餐").number
    assert f'data-sent-number="{number}"' in text
    assert f"/needs/p/{key}/status/?number={number}" in text
    assert f"/needs/p/{key}/status/" in client.get(f"/needs/p/{key}/").content.decode()


# --- F5, F11: words on the inbox and the need page ---------------------------------------------


def test_inbox_shows_the_outcome_of_closed_dispatches(client, needs_people, volunteer, raise_need):
    p = needs_people
    need = review.accept(n := raise_need(), p.community, n.version)
    d = dispatch.send(need, volunteer, None, p.community, need.version)
    d = dispatch.accept(d, p.provider, d.version)
    d = dispatch.report(d, p.provider, d.version, "已送餐", "2", [])
    need.refresh_from_db()
    dispatch.confirm(need, p.worker, need.version, 5)
    other = review.accept(n := raise_need(title="修水管"), p.community, n.version)
    withdrawn = dispatch.send(other, volunteer, None, p.community, other.version)
    dispatch.withdraw(withdrawn, p.community, withdrawn.version, "居民已自行解决")
    client.force_login(p.provider)
    text = client.get("/needs/inbox/").content.decode()
    assert "完成于" in text and "2.0 小时" in text
    assert "前完成" not in text  # no deadline on closed rows
    assert "派单于" in text and "居民已自行解决" in text
    detail = client.get(f"/needs/inbox/{withdrawn.pk}/").content.decode()
    assert "撤回原因" in detail and "退单原因" not in detail
    assert "接单后显示完整信息" not in detail


def test_need_page_words_for_a_public_need(client, tree, needs_people, public_need):
    p = needs_people
    review.decline(public_need, p.community, public_need.version, "不属于服务范围")
    client.force_login(p.community)
    text = client.get(f"/needs/{public_need.pk}/").content.decode()
    assert "不予受理原因" in text and "退单原因" not in text
    assert "居民（扫码）" in text
    assert '"raiser_told": false' in text
