"""The public doors (#20) in Chromium at 390×844, as a resident's phone after scanning the QR
on a notice board: the need form opens with no login naming the grid and community, "use my
location" fills the position, sending shows the number; the 6th post in an hour from the same
address gets the Chinese rate-limit message; 双报到 registration; and the form still posts with
script off (an old webview). No map tiles, nothing from outside, no sideways scroll, no English.
Screenshots of the form, the answer, the limit and the registration."""

from __future__ import annotations

import pytest

from needs.models import Need, Provider, ProviderStatus
from needs.services.public import intake_key
from tests.browser_support import browser, needs_chromium, outside_requests, screenshot  # noqa: F401
from tests.conftest import centre_of
from tests.needs_phone_fixtures import seed_kinds
from tests.test_words_browser import english_words

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WAIT = 30000


def resident_phone(browser, live_server, where=None, *, script: bool = True):  # noqa: F811
    options = {"viewport": PHONE, "locale": "zh-CN", "java_script_enabled": script}
    if where is not None:
        options |= {
            "geolocation": {"longitude": where.x, "latitude": where.y, "accuracy": 12},
            "permissions": ["geolocation"],
        }
    context = browser.new_context(**options)
    page = context.new_page()
    page.errors, page.requests, page.base = [], [], live_server.url
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    return context, page


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def english(page) -> list[str]:
    return english_words([page.inner_text("main")], frozenset({"XQ"}))


def fill_need(page, title: str) -> None:
    page.select_option("#id_kind", "elderly")
    page.fill("#id_title", title)
    page.fill("#id_description", "老人独居，行动不便")
    page.fill("#id_address", "测试路1号3单元502")
    page.fill("#id_contact_name", "王大妈")
    page.fill("#id_contact_phone", "13712345678")


def test_a_resident_sends_a_need_and_the_sixth_in_an_hour_is_refused(
    browser,  # noqa: F811
    live_server,
    tree,
    settings,
):
    seed_kinds()
    settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR = 5
    grid = tree.grids[(1, 1, 1)]
    url = f"{live_server.url}/needs/p/{intake_key(grid)}/"
    context, page = resident_phone(browser, live_server, centre_of(grid))
    page.goto(url)
    page.wait_for_selector("[data-testid=public-need]", timeout=WAIT)
    assert "社区11 · 网格111" in page.inner_text("[data-testid=place]")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-public-form")

    fill_need(page, "独居老人需要送餐")
    page.click("[data-locate]")
    # Not wait_for_function: it polls through eval, which the CSP rightly refuses.
    page.wait_for_selector("[data-where-text]:has-text('精度约 12 米')", timeout=WAIT)
    assert page.input_value("input[name=lon]") and page.input_value("input[name=lat]")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=number]", timeout=WAIT)
    need = Need.objects.get()
    assert page.inner_text("[data-testid=number]") == need.number
    assert need.source == "public" and need.location is not None and need.grid == grid
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-public-done")

    for n in range(4):
        page.goto(url)
        fill_need(page, f"第{n + 2}条需求")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=number]", timeout=WAIT)
    page.goto(url)
    fill_need(page, "第六条需求")
    page.click("button[type=submit]")
    page.wait_for_selector(".nf-alert.is-limit", timeout=WAIT)
    limit = page.inner_text(".nf-alert.is-limit")
    assert "5" in limit and not english_words([limit]), limit
    # What the resident typed is still there to send later.
    assert page.input_value("#id_title") == "第六条需求"
    assert Need.objects.count() == 5
    screenshot(page, "needs-public-limit")
    # No map and no tiles (they need a login), nothing from outside the app.
    assert not [u for u in page.requests if "/tiles/" in u or "/api/map/" in u]
    assert not outside_requests(page), outside_requests(page)
    # The browser logs the refused post's 429 itself; nothing else went wrong.
    errors = [e for e in page.errors if "status of 429" not in e]
    assert not errors, errors
    context.close()


def test_the_form_posts_with_script_off(browser, live_server, tree):  # noqa: F811
    seed_kinds()
    grid = tree.grids[(1, 1, 1)]
    context, page = resident_phone(browser, live_server, script=False)
    page.goto(f"{live_server.url}/needs/p/{intake_key(grid)}/")
    # "Use my location" needs script: hidden; the address is enough.
    assert not page.is_visible("[data-locate]")
    fill_need(page, "水管漏水需要维修")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=number]", timeout=WAIT)
    assert Need.objects.get().location is None
    context.close()


def test_a_volunteer_registers_with_the_community(browser, live_server, tree):  # noqa: F811
    seed_kinds()
    grid = tree.grids[(1, 1, 1)]
    context, page = resident_phone(browser, live_server)
    page.goto(f"{live_server.url}/needs/join/{intake_key(grid)}/")
    page.wait_for_selector("[data-testid=join]", timeout=WAIT)
    assert "社区11" in page.inner_text("[data-testid=place]")
    page.check("input[name=kind][value=volunteer]")
    page.fill("#id_name", "刘志愿")
    page.fill("#id_organisation", "区人民医院")
    page.fill("#id_phone", "139 0000 3333")
    page.fill("#id_password", "Long-enough-9")
    page.fill("#id_password_again", "Long-enough-9")
    page.check("input[name=offers][value=elderly]")
    page.check("input[name=offers][value=goods]")
    page.fill("#id_availability", "周末全天")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-join-form")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=done]", timeout=WAIT)
    provider = Provider.objects.get()
    assert provider.status == ProviderStatus.PENDING and provider.kind == "volunteer"
    assert provider.users.get().username == "13900003333"
    assert "13900003333" in page.inner_text("[data-testid=done]")
    assert fits(page) and not english(page), english(page)
    screenshot(page, "needs-join-done")
    assert not page.errors, page.errors
    context.close()
