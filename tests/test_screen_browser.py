"""The wall screen in Debian's headless Chromium (issue #16): it renders at 1920×1080 and
3840×2160 with no console error and nothing asked of another host, through a kiosk link too,
and a new incident reported through the API enters its live feed within 2 s."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.gis.geos import Point

from incidents.services.reporting import Report, report_incident
from screen.services import kiosks
from tests.browser_support import (  # noqa: F401
    SIZES,
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    report_through_api,
    screenshot,
)
from tests.conftest import centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
READY = "body[data-screen-ready='1']"


@pytest.fixture
def scene(tree, users, catalogue, homes):
    for n, key in enumerate([(1, 1, 1), (1, 1, 2), (1, 2, 1), (1, 2, 2), (1, 1, 1)]):
        point = centre_of(tree.grids[key])
        report_incident(
            Report(
                title=f"路面破损{n + 1}",
                category="T0101",
                source="patrol",
                location=Point(point.x + 0.0003 * n, point.y, srid=4326),
            ),
            user=users.street,
        )
    return tree


def open_screen(browser, live_server, user, size):  # noqa: F811
    page = open_page(browser, live_server.url, user, path="/screen/", size=size)
    page.warnings = []
    page.on("console", lambda m: page.warnings.append(m.text) if m.type == "warning" else None)
    page.reload()
    page.wait_for_selector(READY, timeout=60000)
    return page


def map_drawn(page) -> bool:
    """The map core rendered (its ready flag), and the page shows no "map unavailable"."""
    return page.evaluate(
        "document.body.dataset.mapReady === '1' && document.getElementById('map-note').hidden"
    )


@pytest.mark.parametrize("size,name", [("wide", "screen-1080"), ("wall", "screen-2160")])
def test_the_screen_renders_at_both_sizes(browser, live_server, scene, users, size, name):  # noqa: F811
    page = open_screen(browser, live_server, users.street, size)
    try:
        page.wait_for_timeout(800)  # the charts' entry animation
        screenshot(page, name)
        assert page.errors == []
        assert outside_requests(page) == []
        assert map_drawn(page), page.warnings
        # Chinese on a Chinese page: no English word in any text a person reads.
        assert re.findall(r"[A-Za-z]{3,}", page.inner_text("body")) == []
        kpis = page.locator(".kpi").count()
        assert kpis == 14
        today = page.locator('.kpi[data-key="today"] .value').inner_text()
        assert today == "5"
        assert page.locator("#feed li").count() == 5
        # Nothing spills out of the viewport: the wall cannot scroll.
        width, height = SIZES[size]["width"], SIZES[size]["height"]
        assert page.evaluate("document.documentElement.scrollHeight") <= height
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Readable across a room: the KPI figures are at least 3.5 % of the height.
        value_px = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.kpi .value')).fontSize)"
        )
        assert value_px >= 0.03 * height
    finally:
        page.close()


def test_a_kiosk_link_opens_the_screen(browser, live_server, scene, tree, users):  # noqa: F811
    kiosk, secret = kiosks.issue(users.street, tree.streets[1].code, "街道大屏")
    # The secret in the fragment (never sent in a request line): the page posts it. A link
    # of the older form (secret in the path) is forwarded to the same page.
    for path in (f"/screen/kiosk/#{secret}", f"/screen/kiosk/{secret}"):
        page = open_page(browser, live_server.url, None, path=path, size="wide")
        try:
            page.wait_for_selector(READY, timeout=60000)
            assert page.url.endswith("/screen/")
            assert page.errors == []
            assert page.locator('.kpi[data-key="today"] .value').inner_text() == "5"
        finally:
            page.close()


def test_a_new_incident_enters_the_feed_within_two_seconds(
    browser,  # noqa: F811
    live_server,
    scene,
    tree,
    users,  # noqa: F811
):
    page = open_screen(browser, live_server, users.street, "wide")
    try:
        page.wait_for_selector("body[data-live='open']", timeout=20000)
        point = centre_of(tree.grids[(1, 1, 1)])
        started = time.monotonic()
        report_through_api(users.worker, Point(point.x + 0.0002, point.y), "新报窨井盖缺失")
        page.wait_for_selector("#feed li.fresh:has-text('新报窨井盖缺失')", timeout=2000)
        elapsed = time.monotonic() - started
        assert elapsed < 2.5
        assert page.errors == []
    finally:
        page.close()


def test_another_street_sees_nothing_of_this_one(browser, live_server, scene, tree, make_user):  # noqa: F811
    other = make_user("street2", "street_centre", region=tree.streets[2])
    page = open_screen(browser, live_server, other, "wide")
    try:
        assert page.locator('.kpi[data-key="today"] .value').inner_text() == "0"
        assert "路面破损" not in page.content()
    finally:
        page.close()


def test_a_centre_creates_and_revokes_a_kiosk_on_its_page(browser, live_server, tree, users):  # noqa: F811
    page = open_page(browser, live_server.url, users.street, path="/screen/kiosks/", size="desk")
    try:
        page.fill("input[name=name]", "指挥大厅左侧大屏")
        page.click("#kiosk-form button[type=submit]")
        page.wait_for_selector("#kiosk-issued:not([hidden])")
        link = page.inner_text("#kiosk-link")
        assert "/screen/kiosk/#gk_" in link
        page.wait_for_selector("#kiosk-table tbody tr")
        assert "指挥大厅左侧大屏" in page.inner_text("#kiosk-table")
        screenshot(page, "screen-kiosks")
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("#kiosk-table button[data-revoke]")
        page.wait_for_selector("#kiosk-none:not([hidden])")
        assert page.errors == []
        # Words in Chinese; the link itself (in <code>) is data.
        words = page.evaluate(
            "(() => { const m = document.querySelector('main').cloneNode(true);"
            " m.querySelectorAll('code, script').forEach((c) => c.remove());"
            " return m.innerText; })()"
        )
        assert re.findall(r"[A-Za-z]{3,}", words) == []
    finally:
        page.close()
