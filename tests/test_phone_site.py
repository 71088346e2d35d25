"""The main site on a phone (issue #18, item 5) in Debian's headless Chromium at 390×844: no
page is wider than the screen, the header is one row (≤ 64 px, the brand on one line) with its
links in a menu and, for grid workers, the field app one tap away; the queue and the ledger are
cards; the report form places the point (on the map or at "my position") before the fields
and the submit button. A wide screen keeps the bar of links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from tests.browser_support import (  # noqa: F401
    SIZES,
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    screenshot,
)
from tests.conftest import centre_of
from tests.test_report_pages import forms  # noqa: F401

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = SIZES["phone"]

# Each page a grid worker, community staff or street user opens, by who opens it.
PAGES = {
    "worker": [
        "/",
        "/overview/",
        "/incidents/",
        "/incidents/{incident}/",
        "/incidents/new/",
        "/reports/",
        "/reports/ledger/",
        "/notifications/",
        "/boundaries/",
        "/sensors/",
        "/ogc/",
        "/ogc/collections",
        "/ogc/collections/incidents/items?f=html",
    ],
    "community": [
        "/overview/",
        "/incidents/?queue=all",
        "/reports/completeness/",
        "/reports/burden/",
        "/reports/indicators/",
        "/notifications/",
        "/boundaries/",
    ],
    "street": ["/incidents/", "/reports/", "/screen/kiosks/"],
}

MEASURE = """() => {
  const bar = document.querySelector("header.bar");
  const brand = bar && bar.querySelector(".brand");
  const line = brand ? parseFloat(getComputedStyle(brand).lineHeight) || 24 : 0;
  return {
    width: document.documentElement.scrollWidth,
    header: bar ? bar.getBoundingClientRect().height : null,
    brandLines: brand ? Math.round(brand.getBoundingClientRect().height / line) : null,
  };
}"""


@pytest.fixture
def scene(users, tree, incident, forms):  # noqa: F811
    """Something in every list: an incident (the fixture), a change set of the worker's
    community, a notification each, and the ledger's items (`forms`)."""
    worker = Client()
    worker.force_login(users.worker)
    response = worker.post(
        "/boundaries/",
        {"region": tree.communities[(1, 1)].code, "title": "新小区拆分", "valid_from": ""},
    )
    assert response.status_code == 302
    for user in (users.worker, users.community, users.street):
        Notification.objects.create(
            user=user,
            kind="incident",
            title=f"新事件：{incident.title}",
            url=reverse("incident-detail", args=[incident.pk]),
        )
    return incident


def test_no_page_is_wider_than_a_phone_and_the_header_is_one_row(
    browser,  # noqa: F811
    live_server,
    users,
    scene,
):
    too_wide, too_tall = [], []
    for who, paths in PAGES.items():
        page = open_page(browser, live_server.url, getattr(users, who), size="phone")
        try:
            for path in paths:
                page.goto(live_server.url + path.format(incident=scene.pk))
                page.wait_for_load_state("load")
                got = page.evaluate(MEASURE)
                if got["width"] > PHONE["width"]:
                    too_wide.append((who, path, got["width"]))
                if got["header"] is not None and (got["header"] > 64 or got["brandLines"] != 1):
                    too_tall.append((who, path, got))
        finally:
            page.close()
    assert too_wide == []
    assert too_tall == []


def test_the_login_page_fits_a_phone(browser, live_server, db):  # noqa: F811
    page = open_page(browser, live_server.url, path="/login/", size="phone")
    try:
        got = page.evaluate(MEASURE)
        assert got["width"] <= PHONE["width"] and got["header"] <= 64
        # Signed out there is no menu: the language choice is the bar's only control.
        assert page.locator(".menu-button").count() == 0
        assert page.locator("header.bar select[name=language]").is_visible()
        # A grid worker who opens the site on a phone is pointed to the field app.
        assert page.locator("main a[href='/field/']").inner_text() == "手机版 · 外勤"
    finally:
        page.close()


def test_the_menu_holds_the_links_and_a_grid_worker_sees_the_field_app(
    browser,  # noqa: F811
    live_server,
    users,
    scene,
):
    page = open_page(browser, live_server.url, users.worker, path="/incidents/", size="phone")
    try:
        field = page.locator("header.bar a.field-link")
        assert field.is_visible() and field.inner_text().strip() == "手机版 · 外勤"
        assert field.get_attribute("href") == "/field/"
        links = page.locator("#site-nav a[href='/reports/']")
        assert not links.is_visible()
        # The unread count shows on the button while the links are folded away.
        assert int(page.locator(".menu-button .count").inner_text()) >= 1
        page.click(".menu-button")
        assert links.is_visible()
        box = page.locator("#site-nav a[href='/notifications/']").bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
        screenshot(page, "phone-menu")
        page.keyboard.press("Escape")
        assert not links.is_visible()
    finally:
        page.close()
    community = open_page(browser, live_server.url, users.community, size="phone")
    try:
        assert community.locator("header.bar a.field-link").count() == 0
        assert community.locator(".menu-button").is_visible()
    finally:
        community.close()


def test_the_queue_and_the_ledger_are_cards_with_finger_sized_fields(
    browser,  # noqa: F811
    live_server,
    users,
    scene,
):
    page = open_page(browser, live_server.url, users.worker, path="/incidents/", size="phone")
    try:
        row = page.locator(f"tr[data-incident='{scene.pk}']")
        title = row.locator("td").first.bounding_box()
        assert title["width"] > PHONE["width"] * 0.7  # the title has the card's whole width
        assert page.locator("table.queue thead").is_hidden()
        # The due time says what it is (the header row is hidden): its label comes before it.
        due = row.locator("td.due")
        assert due.get_attribute("data-label") == "时限"
        assert due.evaluate("td => getComputedStyle(td, '::before').content") == '"时限 "'
        screenshot(page, "phone-incident-queue")

        page.goto(live_server.url + "/reports/ledger/")
        page.wait_for_selector(".ledger-page[data-ready='1']")
        field = page.locator("#v-T_RESIDENTS")
        box = field.bounding_box()
        assert box["height"] >= 44 and box["width"] > PHONE["width"] * 0.6
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "phone-ledger")
    finally:
        page.close()


def test_the_report_form_places_the_point_before_the_fields_and_at_my_position(
    browser,  # noqa: F811
    live_server,
    users,
    tree,
    catalogue,
):
    here = centre_of(tree.grids[(1, 1, 1)])
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"longitude": here.x, "latitude": here.y, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.errors, page.requests, page.base = [], [], live_server.url
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    try:
        users.worker.set_password("browser-test-password")
        users.worker.save(update_fields=["password"])
        page.goto(f"{live_server.url}/login/?next=/incidents/new/")
        page.fill("#id_username", users.worker.username)
        page.fill("#id_password", "browser-test-password")
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
        top = {
            name: page.locator(selector).bounding_box()["y"]
            for name, selector in {
                "map": "#report-map",
                "title": "#report-form [name=title]",
                "submit": "#report-submit",
            }.items()
        }
        assert top["map"] < top["title"] < top["submit"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.click("#my-position")
        page.wait_for_selector("#point-chosen:not([hidden])")
        lon, lat = (float(v) for v in page.inner_text("#point-text").split(","))
        assert abs(lon - here.x) < 1e-6 and abs(lat - here.y) < 1e-6
        assert page.inner_text("#point-accuracy") == "精度约 12 米"
        assert page.locator(".report-point").count() == 1
        submit = page.locator("#report-submit").bounding_box()
        assert submit["height"] >= 44
        screenshot(page, "phone-report-form")
        assert page.errors == []
        assert outside_requests(page) == []
    finally:
        context.close()


def test_a_wide_screen_keeps_the_bar_of_links(browser, live_server, users, scene):  # noqa: F811
    page = open_page(browser, live_server.url, users.worker, path="/incidents/new/", size="desk")
    try:
        assert page.locator(".menu-button").is_hidden()
        assert page.locator("#site-nav a[href='/reports/']").is_visible()
        assert page.evaluate("document.querySelector('header.bar').offsetHeight") <= 48
        # The report map is beside the form, not under it.
        page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
        form = page.locator(".report-form-card").bounding_box()
        map_box = page.locator("#report-map").bounding_box()
        assert map_box["x"] >= form["x"] + form["width"] and map_box["height"] > 600
        assert page.locator("#report-submit").is_visible()
        screenshot(page, "desk-report-form")
    finally:
        page.close()
