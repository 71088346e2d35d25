"""The /field/patrols/ page in Chromium (issue #18): community staff see the month's tracks on
the map and hours and kilometres per grid worker, at a desk and on a phone, in Chinese, with
nothing fetched from outside and nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from field.services import patrols
from grids.models import Role
from tests.browser_support import (  # noqa: F401
    ARTIFACTS,
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    screenshot,
)

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def walk(x0, y0, dx, dy, start, steps=30):
    return [
        [
            x0 + dx * i / steps,
            y0 + dy * i / steps,
            (start + dt.timedelta(minutes=2 * i)).isoformat(),
            6,
        ]
        for i in range(steps + 1)
    ]


@pytest.fixture
def tracks(tree, users, make_user):
    users.worker.first_name = "张伟"
    users.worker.save()
    teammate = make_user("teammate", Role.GRID_WORKER, grid=tree.grids[(1, 1, 2)])
    teammate.first_name = "李娜"
    teammate.save()
    make_user("idle", Role.GRID_WORKER, grid=tree.grids[(1, 1, 2)], first_name="王芳")
    now = timezone.now()
    for user, (x0, y0, dx, dy), hours_ago in [
        (users.worker, (105.905, 29.305, 0.012, 0.02), 6),
        (users.worker, (105.91, 29.335, 0.01, -0.01), 3),
        (teammate, (105.93, 29.31, 0.015, 0.03), 2),
    ]:
        start = now - dt.timedelta(hours=hours_ago)
        points = walk(x0, y0, dx, dy, start)
        patrols.record(
            user,
            client_key=uuid.uuid4(),
            data={"started_at": points[0][2], "ended_at": points[-1][2], "points": points},
            received=now,
        )


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_the_patrols_page_shows_tracks_and_figures(browser, live_server, users, tracks, size):  # noqa: F811
    page = open_page(
        browser,
        live_server.url,
        users.community,
        path="/field/patrols/",
        size=size,
        wait_for="body[data-patrols-ready='1']",
    )
    page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    rows = page.locator("#patrol-figures tbody tr")
    assert rows.count() == 3
    assert "张伟" in page.locator("#patrol-figures").inner_text()
    assert page.locator("#patrol-list li").count() == 3
    drawn = page.evaluate("() => window.gridlineMap.map.querySourceFeatures('patrols').length")
    assert drawn >= 3
    words = page.evaluate(
        """() => [...document.querySelectorAll('h1, h2, th, label, button, a, .figures li')]
            .filter((el) => el.checkVisibility()).map((el) => el.innerText.trim())"""
    )
    english = [w for w in words if LATIN_WORD.search(w)]
    assert english == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    screenshot(page, f"field-patrols-{size}")
    page.screenshot(path=str(ARTIFACTS / f"field-patrols-{size}-full.png"), full_page=True)
    assert outside_requests(page) == []
    assert page.errors == []
    page.close()
