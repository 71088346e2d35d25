"""The #20 review fixes in Chromium (FIX1): a resident's camera photo is made small on the
phone before the public form sends it (≤1600 px, and stored without EXIF); the thank-you
page leads to 查询进度, which answers the status with the number and the phone's last 4 digits;
the form remembers on the phone what it sent ("您提交过"); the provider's inbox shows the
outcome of closed dispatches; the need page of a declined public need says who raised it and
why it was not accepted. Screenshots at 390×844 (and the need page at 1440×900)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from needs.models import Need, NeedSource
from needs.services import dispatch, intake, review
from needs.services.public import intake_key
from tests.browser_support import browser, needs_chromium, open_page, screenshot  # noqa: F401
from tests.conftest import centre_of
from tests.needs_phone_fixtures import need_at, provider_with_account, seed_kinds
from tests.test_needs_public_browser import english, fill_need, fits, resident_phone

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

WAIT = 30000


@pytest.fixture
def camera_photo(tmp_path):
    """A 3000×2000 camera JPEG with the phone's make and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[271] = "ReviewCam"
    exif[34853] = {1: "N", 2: (29.0, 30.0, 0.0), 3: "E", 4: (106.0, 33.0, 0.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), (180, 90, 40)).save(buffer, "JPEG", exif=exif, quality=95)
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def test_public_photo_shrinks_and_the_resident_finds_the_need_again(
    browser,  # noqa: F811
    live_server,
    tree,
    camera_photo,
):
    seed_kinds()
    key = intake_key(tree.grids[(1, 1, 1)])
    context, page = resident_phone(browser, live_server)
    page.goto(f"{live_server.url}/needs/p/{key}/")
    page.wait_for_selector("[data-testid=public-need]", timeout=WAIT)
    assert page.is_hidden("[data-mine]")  # nothing sent from this phone yet
    fill_need(page, "独居老人需要送餐")
    page.set_input_files("#id_photos", str(camera_photo))
    page.wait_for_selector("#id_photos[data-ready='1']", timeout=WAIT)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=done]", timeout=WAIT)
    need = Need.objects.get(title="独居老人需要送餐")
    stored = need.photos.get()
    assert max(stored.width, stored.height) <= 1600  # made small on the phone
    with stored.image.open("rb") as f, Image.open(f) as image:
        assert not image.getexif()
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-fix-public-done")

    page.click("[data-testid=check-link]")
    page.wait_for_selector("[data-testid=public-status]", timeout=WAIT)
    assert page.input_value("#id_number") == need.number
    page.fill("#id_last4", "5678")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=progress]", timeout=WAIT)
    assert "待审核" in page.inner_text("[data-testid=progress-status]")
    text = page.inner_text("main")
    assert "王大妈" not in text and "13712345678" not in text
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-fix-status-found")

    page.goto(f"{live_server.url}/needs/p/{key}/")
    page.wait_for_selector("[data-mine]:not([hidden])", timeout=WAIT)
    assert need.number in page.inner_text("[data-mine]")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-fix-public-remembered")
    assert not page.errors, page.errors
    context.close()


def test_the_form_still_sends_photos_without_script(
    browser,  # noqa: F811
    live_server,
    tree,
    camera_photo,
):
    seed_kinds()
    key = intake_key(tree.grids[(1, 1, 1)])
    context, page = resident_phone(browser, live_server, script=False)
    page.goto(f"{live_server.url}/needs/p/{key}/")
    fill_need(page, "无脚本也能提交")
    page.set_input_files("#id_photos", str(camera_photo))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=done]", timeout=WAIT)
    stored = Need.objects.get(title="无脚本也能提交").photos.get()
    # sent as chosen; stored re-encoded without metadata
    assert (stored.width, stored.height) == (3000, 2000)
    with stored.image.open("rb") as f, Image.open(f) as image:
        assert not image.getexif()
    context.close()


def test_inbox_outcomes_and_the_need_page_words(
    browser,  # noqa: F811
    live_server,
    tree,
    users,
):
    seed_kinds()
    side = provider_with_account(tree, users.community)
    done = need_at(tree, users.worker, title="送餐一周")
    done = review.accept(done, users.community, done.version)
    d = dispatch.send(done, side.provider, side.offer, users.community, done.version)
    d = dispatch.accept(d, side.user, d.version)
    dispatch.report(d, side.user, d.version, "送餐一周", "3.5")
    done.refresh_from_db()
    dispatch.confirm(done, users.worker, done.version, 5)
    back = review.accept(
        n := need_at(tree, users.worker, title="修水管"), users.community, n.version
    )
    w = dispatch.send(back, side.provider, side.offer, users.community, back.version)
    dispatch.withdraw(w, users.community, w.version, "居民已自行解决")

    page = open_page(browser, live_server.url, side.user, path="/needs/inbox/", size="phone")
    page.wait_for_selector("[data-testid=inbox]", timeout=WAIT)
    history = page.inner_text("[data-section=history] + ul")
    assert "完成于" in history and "3.5 小时" in history and "前完成" not in history
    assert "派单于" in history and "居民已自行解决" in history
    screenshot(page, "needs-fix-inbox-history")
    page.goto(f"{live_server.url}/needs/inbox/{w.pk}/")
    page.wait_for_selector("[data-testid=dispatch]", timeout=WAIT)
    text = page.inner_text("main")
    assert "撤回原因" in text and "接单后显示完整信息" not in text and "完成期限" not in text
    screenshot(page, "needs-fix-inbox-withdrawn")
    page.close()

    public = intake.raise_need(
        None,
        {
            "kind": "elderly",
            "title": "扫码登记的需求",
            "location": centre_of(tree.grids[(1, 1, 1)]),
            "contact_name": "李阿姨",
            "contact_phone": "13912340000",
        },
        source=NeedSource.PUBLIC,
        grid=tree.grids[(1, 1, 1)],
        submitter="d" * 64,
    )
    for size in ("phone", "desk"):
        page = open_page(
            browser, live_server.url, users.community, path=f"/needs/{public.pk}/", size=size
        )
        page.wait_for_selector(".nd-page[data-ready]", timeout=WAIT)
        assert "居民（扫码）" in page.inner_text("main")
        if size == "desk":
            page.click("details:has(form[data-step=decline]) > summary")
            assert "无账号可通知" in page.inner_text("main")
            page.fill("form[data-step=decline] textarea", "不属于服务范围")
            page.click("form[data-step=decline] button[type=submit]")
            page.wait_for_selector(".nd-page[data-status=declined]", timeout=WAIT)
            page.wait_for_selector(".nd-page[data-ready]", timeout=WAIT)
            text = page.inner_text("main")
            assert "不予受理原因" in text and "已不予受理。" in text and "已告知提出人" not in text
        screenshot(page, f"needs-fix-detail-{size}")
        assert not page.errors, page.errors
        page.close()
