"""The provider's inbox (服务方 · 我的派单, #20) in Chromium at 390×844: a provider logs in and
lands on the inbox, sees the dispatch, 接单, reports back with a photo and hours; declines
another with a reason; a provider still pending sees 等待社区确认. No sideways scroll, no
English, no script errors. Screenshots of the inbox, a dispatch and the report form."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from grids.models import Role, User
from needs.models import Dispatch, DispatchStatus, NeedPhoto, Provider, ProviderStatus
from tests.browser_support import browser, needs_chromium, screenshot  # noqa: F401
from tests.needs_phone_fixtures import (
    PASSWORD,
    dispatched,
    need_at,
    provider_with_account,
    seed_kinds,
)
from tests.test_words_browser import english_words

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WAIT = 30000


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (60, 120, 90)).save(out, "JPEG")
    return out.getvalue()


def logged_in(browser, live_server, username: str):  # noqa: F811
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def english(page) -> list[str]:
    return english_words([page.inner_text("main")], frozenset({"XQ"}))


def test_a_provider_takes_a_dispatch_and_reports_it_with_a_photo(
    browser,  # noqa: F811
    live_server,
    tree,
    users,
):
    seed_kinds()
    side = provider_with_account(tree, users.community)
    first = dispatched(need_at(tree, users.worker), users.community, side)
    second = dispatched(
        need_at(tree, users.worker, title="帮忙去医院取药", kind="elderly"), users.community, side
    )
    page = logged_in(browser, live_server, side.user.username)
    # After the login a provider lands on its inbox.
    assert page.url.endswith("/needs/inbox/"), page.url
    page.wait_for_selector(f"[data-dispatch='{first.pk}']", timeout=WAIT)
    assert page.locator("[data-section=sent] + .nf-list .nf-row").count() == 2
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-inbox-phone")

    page.click(f"[data-dispatch='{first.pk}']")
    page.wait_for_selector("[data-testid=dispatch][data-status=sent]", timeout=WAIT)
    assert "137****5678" in page.inner_text("[data-testid=contact]")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-inbox-dispatch")
    page.click("[data-action=accept]")
    page.wait_for_selector("[data-testid=dispatch][data-status=accepted]", timeout=WAIT)
    assert "13712345678" in page.inner_text("[data-testid=contact]")
    page.fill("#report-text", "送餐三次，老人很满意")
    page.fill("#report-hours", "2.5")
    page.set_input_files(
        "#report-photos", [{"name": "IMG_2.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-inbox-report")
    page.click("[data-action=report]")
    page.wait_for_selector("[data-testid=dispatch][data-status=reported]", timeout=WAIT)
    assert "送餐三次" in page.inner_text("main")
    first.refresh_from_db()
    assert first.status == DispatchStatus.REPORTED and str(first.hours) == "2.5"
    assert NeedPhoto.objects.filter(dispatch=first, stage="report").count() == 1

    # 退单 with a reason: the need goes back to the community.
    page.goto(f"{live_server.url}/needs/inbox/{second.pk}/")
    page.click("details.nf-box summary")
    page.fill("#decline-reason", "本周外出，无法服务")
    page.click("[data-action=decline]")
    page.wait_for_selector("[data-testid=dispatch][data-status=declined]", timeout=WAIT)
    second.refresh_from_db()
    assert second.status == DispatchStatus.DECLINED and second.need.status == "accepted"
    assert second.decline_reason == "本周外出，无法服务"
    page.goto(f"{live_server.url}/needs/inbox/")
    assert fits(page) and not english(page), english(page)
    assert not page.errors, page.errors
    page.close()


def test_a_pending_provider_waits_for_the_community(browser, live_server, tree, users):  # noqa: F811
    seed_kinds()
    user = User.objects.create_user(username="13922223333", password=PASSWORD, role=Role.PROVIDER)
    provider = Provider.objects.create(
        kind="party_member", name="赵党员", phone="13922223333", community=tree.communities[(1, 1)]
    )
    provider.users.add(user)
    assert provider.status == ProviderStatus.PENDING
    page = logged_in(browser, live_server, user.username)
    page.wait_for_selector("[data-testid=pending]", timeout=WAIT)
    assert "等待社区确认" in page.inner_text("[data-testid=pending]")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-inbox-pending")
    assert not Dispatch.objects.exists() and not page.errors, page.errors
    page.close()
