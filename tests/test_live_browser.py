"""Live events in Debian's headless Chromium (#16, item 4): an incident reported through the
API reaches an open map (static/gridline/live.js → the map core, which flashes it), and a
user of another jurisdiction's open map receives nothing.

Under the tests' live_server (a threaded WSGI server) /events/ is the WSGI fallback
(live/views.py: it polls the event log every 0.5 s); the server's async path (config/asgi.py,
live/hub.py) is driven in tests/test_live_stream.py and timed by bench/live_latency.py."""

from __future__ import annotations

import time

import pytest

from grids.models import Level, Role
from grids.services import boundaries
from tests.browser_support import (  # noqa: F401
    browser,
    needs_chromium,
    open_page,
    report_through_api,
    screenshot,
)
from tests.conftest import cell, centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
READY = "body[data-map-ready='1']"
LIVE = "body[data-live='open']"


@pytest.fixture
def pages(browser, live_server, settings):  # noqa: F811
    # The WSGI streams end every few seconds (the browser reconnects with its Last-Event-ID),
    # so none outlives the test and polls a database that is gone.
    settings.GRIDLINE_LIVE_WSGI_SECONDS = 3
    opened = []

    def open_as(user, wait_for=READY):
        page = open_page(browser, live_server.url, user, path="/", wait_for=wait_for)
        page.wait_for_selector(LIVE, timeout=30000)
        opened.append(page)
        return page

    yield open_as
    for page in opened:
        page.close()
    time.sleep(3.5)


def test_a_reported_incident_flashes_on_open_maps_of_its_jurisdiction_only(
    pages, tree, users, catalogue, make_user
):
    street = pages(users.street)
    other = boundaries.create_region(
        level=Level.DISTRICT,
        code="500999",
        name="别的区",
        geom=cell(107.0, 29.0, 107.1, 29.1),
        valid_from=tree.district.valid_from,
    )
    foreign = pages(make_user("foreign", Role.DISTRICT_CENTRE, region=other), wait_for=None)
    flashes = street.evaluate("() => Number(document.body.dataset.flashes || 0)")
    started = time.monotonic()
    pk = report_through_api(users.worker, centre_of(tree.grids[(1, 1, 1)]))
    street.wait_for_function(
        "(pk) => window.gridlineLive.last && window.gridlineLive.last.object.id === pk",
        arg=pk,
        timeout=10000,
    )
    seconds = time.monotonic() - started
    street.wait_for_function(
        "(n) => Number(document.body.dataset.flashes || 0) > n", arg=flashes, timeout=10000
    )
    last = street.evaluate("() => window.gridlineLive.last")
    assert last["kind"] == "incident.created" and last["layers"] == ["incidents"]
    assert last["object"]["url"] == f"/incidents/{pk}/"
    screenshot(street, "live-new-incident-flash")
    # The other district's page polled past the event and got nothing of it.
    time.sleep(1.5)
    assert foreign.evaluate("() => window.gridlineLive.received") == 0
    assert not street.errors and not foreign.errors
    print(f"report → street map: {seconds:.2f} s (WSGI poll path)")
