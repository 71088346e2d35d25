"""The pages' shared browser code (issue #16, item 7) in Debian's headless Chromium: the shared
helpers (static/gridline/api.js) format as a Chinese reader expects; the incident queue takes
a new incident from the event stream without a reload and marks it new, and another street's
queue does not; the report form places a point on the command map's renderer; and no page
loads a classic script of ours or the unmaintained Leaflet.VectorGrid."""

from __future__ import annotations

import re

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from incidents.services.reporting import Report, report_incident
from tests.browser_support import (  # noqa: F401
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    report_through_api,
    screenshot,
)
from tests.conftest import centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

# Scripts of ours that stay classic on purpose: the catalogue (it defines gettext() for the
# modules), the autosubmit listener, and Leaflet's words, which must run between leaflet.js and
# the admin's classic map widget.
CLASSIC = {"/jsi18n/", "/static/gridline/forms.js", "/static/gridline/leaflet-words.js"}
SCRIPT = re.compile(r"<script\b([^>]*)\bsrc=\"([^\"]+)\"([^>]*)>")


def report(user, tree, title: str, key=(1, 1, 1), dx: float = 0.0):
    point = centre_of(tree.grids[key])
    found, _ = report_incident(
        Report(
            title=title,
            category="T0101",
            source="patrol",
            location=Point(point.x + dx, point.y, srid=4326),
        ),
        user=user,
    )
    return found


def test_the_shared_helpers_format_for_a_chinese_reader(browser, live_server, users, tree):  # noqa: F811
    page = open_page(browser, live_server.url, users.street, path="/notifications/")
    try:
        got = page.evaluate(
            """async () => {
              const { fmt, esc, errorText, call } = await import("/static/gridline/api.js");
              document.documentElement.dataset.timeZone = "Asia/Shanghai";
              const bad = await call("/api/incidents/", { method: "POST", data: {} });
              return {
                number: fmt.number(1234567.891, 2), none: fmt.number(null),
                percent: fmt.percent(0.8534), date: fmt.date("2026-12-07"),
                datetime: fmt.datetime("2026-12-06T20:05:00Z"),
                time: fmt.time("2026-12-06T20:05:00Z"),
                duration: fmt.duration(93784), seconds: fmt.duration(45),
                esc: esc('<a href="x">&'),
                error: errorText({ errors: [{ field: "title", message: "必填" }] }),
                bad: [bad.ok, bad.status, Boolean(bad.body && bad.body.errors)],
              };
            }"""
        )
    finally:
        page.close()
    assert got == {
        "number": "1,234,567.89",
        "none": "–",
        "percent": "85.3%",
        "date": "2026-12-07",
        "datetime": "2026-12-07 04:05",
        "time": "04:05",
        "duration": "1天 2小时",
        "seconds": "45秒",
        "esc": "&#60;a href=&#34;x&#34;&#62;&#38;",
        "error": "title: 必填",
        # An HTTP error is an answer, not an exception: the API's own errors come back.
        "bad": [False, 400, True],
    }


def test_the_queue_takes_a_new_incident_without_a_reload(
    browser,  # noqa: F811
    live_server,
    users,
    tree,
    catalogue,
    make_user,
):
    old = report(users.worker, tree, "旧的井盖缺失")
    other = make_user("street2", "street_centre", region=tree.streets[2])
    page = open_page(browser, live_server.url, users.street, path="/incidents/?queue=open")
    elsewhere = open_page(browser, live_server.url, other, path="/incidents/?queue=open")
    try:
        for p in (page, elsewhere):
            p.wait_for_selector("body[data-live='open']", timeout=20000)
            p.wait_for_selector("#queue-live[data-live='open']")
        assert page.locator(f"tr[data-incident='{old.pk}']").count() == 1
        assert page.locator("#queue-new").is_hidden()

        point = centre_of(tree.grids[(1, 1, 1)])
        new = report_through_api(users.worker, Point(point.x + 0.0002, point.y), "新报窨井盖缺失")
        row = page.wait_for_selector(f"tr.fresh[data-incident='{new}']", timeout=5000)
        assert "新报窨井盖缺失" in row.inner_text()
        assert row.query_selector(".new-badge").inner_text() == "新增"
        assert page.locator("#queue-new").inner_text() == "新增 1 条"
        # The page was not reloaded: the rows seen before are there and not marked new.
        assert page.locator(f"tr[data-incident='{old.pk}']:not(.fresh)").count() == 1
        assert page.evaluate("document.body.dataset.queueRefreshed") == "1"
        screenshot(page, "incident-queue-live")

        # Another street's queue: its stream never carried this incident.
        elsewhere.wait_for_timeout(1500)
        assert elsewhere.evaluate("document.body.dataset.queueRefreshed") is None
        assert "新报窨井盖缺失" not in elsewhere.content()
        assert page.errors == [] and elsewhere.errors == []
        assert outside_requests(page) == []
    finally:
        page.close()
        elsewhere.close()


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_the_report_form_places_the_point_on_the_command_map(
    browser,  # noqa: F811
    live_server,
    users,
    tree,
    catalogue,
    size,
):
    report(users.worker, tree, "已有的占道经营", dx=0.0004)
    page = open_page(
        browser,
        live_server.url,
        users.worker,
        path="/incidents/new/",
        size=size,
        wait_for="body[data-map-ready='1'][data-click-mode='1']",
    )
    try:
        point = centre_of(tree.grids[(1, 1, 1)])
        page.locator("#report-map").scroll_into_view_if_needed()
        xy = page.evaluate(
            "([lon, lat]) => { const m = window.gridlineReport.map;"
            " const p = m.project([lon, lat]);"
            " const r = document.getElementById('report-map').getBoundingClientRect();"
            " return [r.left + p.x, r.top + p.y]; }",
            [point.x, point.y],
        )
        page.mouse.click(*xy)
        page.wait_for_selector("#point-chosen:not([hidden])")
        lon, lat = (float(v) for v in page.inner_text("#point-text").split(","))
        # Where it was clicked, to the pixel (about 12 m at the phone's zoom).
        assert abs(lon - point.x) < 3e-4 and abs(lat - point.y) < 3e-4
        assert page.locator(".report-point").count() == 1
        # Only the grids and the incidents are drawn: nothing hides the ground.
        on = page.evaluate(
            "window.gridlineReport.view.meta.layers.map(l => l.name)"
            ".filter(n => window.gridlineReport.view.isOn(n))"
        )
        assert set(on) <= {"grids", "incidents"} and "grids" in on
        page.wait_for_selector("body[data-map-ready='1']")
        screenshot(page, f"incident-report-{size}")
        assert not [u for u in page.requests if "vectorgrid" in u.lower()]
        assert page.errors == []
        assert outside_requests(page) == []
    finally:
        page.close()


def test_pages_load_our_scripts_as_modules(users, tree, incident):
    """Every script of ours on the pages FRONT converted is an ES module (no IIFE globals),
    except the three classic ones named above, and their words come from the catalogue; no
    page at all (the map and sensor pages included) loads Leaflet.VectorGrid."""
    client = Client()
    client.force_login(users.street)
    converted = [
        "/incidents/",
        "/incidents/new/",
        f"/incidents/{incident.pk}/",
        "/notifications/",
        "/reports/",
        "/boundaries/",
        "/ogc/collections/grids/items?f=html",
    ]
    classic, vectorgrid = {}, []
    for path in [*converted, "/", "/sensors/", "/screen/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        if "vectorgrid" in html.lower():
            vectorgrid.append(path)
        if path not in converted:
            continue
        for before, src, after in SCRIPT.findall(html):
            ours = not src.startswith("/static/vendor/")
            if ours and 'type="module"' not in before + after and src not in CLASSIC:
                classic.setdefault(path, []).append(src)
        # Words come from the catalogue, not from JSON blocks built in the template.
        assert not re.search(r'<script id="[\w-]*i18n"', html), path
    assert classic == {}
    assert vectorgrid == []
