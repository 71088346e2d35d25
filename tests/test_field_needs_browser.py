"""需求 on the phone (#20) in Chromium at 390×844: a need registered offline with a photo and a
household reaches the server exactly once when the signal returns (also when pushed again), a
need the provider reported is confirmed with the resident's satisfaction, and the views fit
the screen in Chinese. Screenshots of the list, the form and a need to confirm."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from needs.models import Need, NeedPhoto, NeedStatus
from tests.browser_support import browser, needs_chromium, screenshot  # noqa: F401
from tests.conftest import centre_of
from tests.needs_phone_fixtures import need_at, provider_with_account, reported, seed_kinds
from tests.test_field_browser_work import (
    WAIT,
    fits,
    go,
    outbox,
    phone,
    picture,
    real_errors,
    until,
    wide,
)
from tests.test_words_browser import english_words

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def grid_needs(tree, users, add_household, field_worker):
    """The worker's grid with two households, a need waiting for review and one reported done."""
    seed_kinds()
    centre = centre_of(tree.grids[(1, 1, 1)])
    homes = [
        add_household(Point(centre.x + i * 0.0005, centre.y, srid=4326), address=f"测试路{i + 1}号")
        for i in range(2)
    ]
    side = provider_with_account(tree, users.community)
    waiting = need_at(tree, users.worker, title="楼道灯坏了需要维修", kind="elderly")
    done = reported(need_at(tree, users.worker, title="独居老人需要送餐"), users.community, side)
    return centre, homes, waiting, done


def chinese_only(page) -> list[str]:
    return english_words([page.inner_text("main")])


def test_a_need_raised_offline_arrives_once_and_a_reported_one_is_confirmed(
    browser,  # noqa: F811
    live_server,
    grid_needs,
    field_worker,
):
    centre, homes, waiting, done = grid_needs
    context, page = phone(browser, live_server, field_worker, centre)
    go(page, "/needs", "[data-section=confirm]")
    assert page.locator(f"[data-need='{done.pk}']").count() == 1
    assert page.locator(f"[data-need='{waiting.pk}']").count() == 1
    assert fits(page), wide(page)
    assert not chinese_only(page), chinese_only(page)
    screenshot(page, "field-needs-list")

    context.set_offline(True)
    until(page, "() => navigator.onLine === false")
    go(page, "/needs/new", "#need-kind")
    page.select_option("#need-kind", "goods")
    page.fill("#need-title", "需要一台轮椅")
    page.fill("#need-details", "腿脚不便，出门困难")
    page.click("[data-urgency=urgent]")
    # Households nearest to me first; picking one fills the address.
    page.click(f"[data-household='{homes[1].pk}']")
    assert page.input_value("#need-address") == "测试路2号"
    page.fill("#need-contact-name", "王大爷")
    page.fill("#need-contact-phone", "13712345678")
    photo = {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": picture(3000, 2000, "JPEG")}
    page.set_input_files(".work-photos-input", [photo])
    until(page, "() => document.querySelectorAll('.work-thumb img').length === 1")
    assert fits(page), wide(page)
    assert not chinese_only(page), chinese_only(page)
    screenshot(page, "field-needs-form")
    page.click(".work-send")
    page.wait_for_selector("[data-section=unsent]", timeout=WAIT)
    (item,) = outbox(page)
    assert item["kind"] == "need.raise" and item["state"] == "saved" and item["photos"] == 1
    assert not Need.objects.filter(client_key=item["key"]).exists()

    context.set_offline(False)
    page.evaluate("window.fieldApp.sync.now()")
    until(
        page,
        "() => !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    assert {i["state"] for i in outbox(page)} == {"sent"}
    need = Need.objects.get(client_key=item["key"])
    assert need.household == homes[1] and need.urgency == "urgent" and need.kind.code == "goods"
    assert need.grid_id == field_worker.user.grid_id and need.raised_by == field_worker.user
    assert NeedPhoto.objects.filter(need=need).count() == 1
    stored = NeedPhoto.objects.get(need=need)
    assert max(stored.width, stored.height) <= 1600  # made small on the phone

    # A sync cut off mid-way sends it again: still one need, one photo.
    page.evaluate(
        """async () => {
            const app = window.fieldApp;
            for (const item of app.outbox.items({})) await app.outbox.retry(item.client_key);
            await app.sync.now();
        }"""
    )
    until(
        page,
        "() => !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    assert Need.objects.filter(client_key=item["key"]).count() == 1
    assert NeedPhoto.objects.filter(need=need).count() == 1
    local = page.evaluate("window.fieldApp.store.all('needs')")
    assert not [r for r in local if str(r["id"]).startswith("new:")]

    # 确认完成 with the resident's satisfaction.
    go(page, f"/needs/{done.pk}", ".need-scores")
    assert "送餐一周" in page.inner_text("main")
    assert fits(page), wide(page)
    assert not chinese_only(page), chinese_only(page)
    page.click(".need-scores [data-score='4']")
    page.fill("#need-feedback", "送得很及时")
    screenshot(page, "field-needs-confirm")
    page.click("form.work-form button[type=submit]")
    page.wait_for_selector("body[data-route='/needs']", timeout=WAIT)
    until(
        page,
        "() => !window.fieldApp.outbox.items({states: ['saved', 'sending']}).length",
        timeout=60,
    )
    done.refresh_from_db()
    assert done.status == NeedStatus.DONE and done.satisfaction == 4
    assert done.feedback == "送得很及时" and done.confirmed_by == field_worker.user
    assert not real_errors(page), real_errors(page)
    context.close()


def test_needs_are_one_tap_from_home_and_more(browser, live_server, grid_needs, field_worker):  # noqa: F811
    centre, *_ = grid_needs
    context, page = phone(browser, live_server, field_worker, centre)
    go(page, "/home", ".cards a[href='#/needs']")
    assert "1" in page.inner_text(".cards a[href='#/needs'] .figure")
    page.click(".quick a[href='#/needs/new']")
    page.wait_for_selector("#need-kind", timeout=WAIT)
    go(page, "/more", "a[href='#/needs']")
    page.click("a[href='#/needs']")
    page.wait_for_selector("[data-section=open]", timeout=WAIT)
    # The smaller phones too: nothing wider than 360 px.
    page.set_viewport_size({"width": 360, "height": 740})
    for path, ready in (("/needs", "[data-section=open]"), ("/needs/new", "#need-kind")):
        go(page, path, ready)
        assert fits(page), (path, wide(page))
    assert not real_errors(page), real_errors(page)
    context.close()
