"""The command-centre map in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from grids.services.households import add_residents, create_household
from tests.conftest import centre_of

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "map-test-password"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM is used here only
    # by the test itself, between browser calls, never concurrently.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def residents(homes):
    for key, home in homes.items():
        add_residents(
            home,
            [
                {
                    "name": "王五",
                    "id_number": "500118195001011234",
                    "phone": "13800000000",
                    "birth_date": "1950-01-01",
                    "sex": "M",
                    "tags": ["elderly"],
                }
            ]
            * (1 + key[2]),
        )
    return homes


@pytest.fixture
def open_map(browser, live_server, users):
    pages = []

    def open_as(user):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.errors = []
        page.base = live_server.url
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-map-ready='1']", timeout=20000)
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.close()


def inside(grid) -> Point:
    """A point well inside a grid but away from its centre, where the household marker is."""
    x0, y0, x1, y1 = grid.boundary_on().extent
    return Point(x0 + 0.25 * (x1 - x0), y0 + 0.25 * (y1 - y0), srid=4326)


def click_at(page, point: Point) -> None:
    xy = page.evaluate(
        "([lat, lon]) => { const p = window.gridlineMap.map.latLngToContainerPoint([lat, lon]);"
        " const r = document.getElementById('map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [point.y, point.x],
    )
    page.mouse.click(*xy)


def test_map_loads_without_errors_and_keeps_a_screenshot(open_map, users, residents):
    page = open_map(users.street)
    assert page.errors == []
    assert page.locator(".leaflet-overlay-pane path").count() > 0
    # Works with no internet: every script, style, image and tile came from the app.
    outside = [url for url in page.requests if not url.startswith(("data:", page.base))]
    assert outside == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-street.png"))
    assert page.locator("#view-figures").get_attribute("data-households") == "4"


def test_layers_toggle(open_map, users, residents):
    page = open_map(users.street)
    has = "(name) => window.gridlineMap.map.hasLayer(window.gridlineMap.layers[name])"
    assert page.evaluate(has, "households")
    page.locator(".leaflet-control-layers label", has_text="住户").locator("input").click()
    assert not page.evaluate(has, "households")
    page.locator(".leaflet-control-layers label", has_text="社区/村").locator("input").click()
    assert page.evaluate(has, "communities")


def test_clicking_a_grid_opens_its_panel_with_its_figures(open_map, users, tree, residents):
    page = open_map(users.street)
    grid = tree.grids[(1, 2, 2)]
    page.evaluate("(z) => window.gridlineMap.map.setZoom(z)", 13)
    page.wait_for_selector("body[data-map-ready='1']")
    click_at(page, inside(grid))
    page.wait_for_selector(f"#panel[data-grid='{grid.code}']", timeout=10000)
    panel = page.locator("#panel")
    assert grid.name in panel.inner_text()
    assert panel.locator("[data-figure=households]").inner_text() == "1"
    assert panel.locator("[data-figure=residents]").inner_text() == "3"
    assert panel.locator("[data-figure=elderly]").inner_text() == "3"


def test_search_flies_to_a_grid(open_map, users, tree, residents):
    page = open_map(users.street)
    grid = tree.grids[(1, 1, 2)]
    page.fill("#search", grid.code)
    page.press("#search", "Enter")
    page.wait_for_selector(f"#panel[data-grid='{grid.code}']", timeout=10000)
    page.wait_for_timeout(900)  # the fly-to animation
    centre = page.evaluate("() => window.gridlineMap.map.getCenter()")
    xmin, ymin, xmax, ymax = grid.boundary_on().extent
    assert xmin <= centre["lng"] <= xmax and ymin <= centre["lat"] <= ymax


def test_another_jurisdiction_sees_none_of_this_one(open_map, users, tree, residents):
    create_household(address="二街道专属地址", location=centre_of(tree.grids[(2, 1, 1)]))
    page = open_map(users.worker)
    figures = page.evaluate("() => Object.keys(window.gridlineMap.state.figures)")
    assert figures == [str(tree.grids[(1, 1, 1)].pk)]
    page.fill("#search", "二街道专属")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results li").inner_text() == "未找到"
    other = tree.grids[(2, 1, 1)]
    page.evaluate("(z) => window.gridlineMap.map.setZoom(z)", 12)
    page.wait_for_selector("body[data-map-ready='1']")
    click_at(page, inside(other))
    page.wait_for_timeout(500)
    assert page.locator("#panel").is_hidden()
