"""The command-centre map on MapLibre (issue #16) in Debian's headless Chromium: points and
grids answer clicks, layers toggle, presets are remembered, search pins the place, nothing
leaves localhost, another jurisdiction sees nothing of this one; screenshots for review."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from grids.services.households import add_residents, create_household
from tests.browser_support import browser, needs_chromium, open_page, outside_requests, screenshot  # noqa: F401
from tests.conftest import centre_of

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
READY = "body[data-map-ready='1']"


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
def open_map(browser, live_server):  # noqa: F811
    pages = []

    def open_as(user, size="desk", path="/"):
        page = open_page(browser, live_server.url, user, path=path, size=size, wait_for=READY)
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.close()


def inside(grid) -> Point:
    """A point well inside a grid but away from its centre (where its household is)."""
    x0, y0, x1, y1 = grid.boundary_on().extent
    return Point(x0 + 0.25 * (x1 - x0), y0 + 0.25 * (y1 - y0), srid=4326)


def screen_xy(page, point: Point) -> tuple[float, float]:
    return page.evaluate(
        "([lon, lat]) => { const p = window.gridlineMap.map.project([lon, lat]);"
        " const r = window.gridlineMap.map.getCanvas().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [point.x, point.y],
    )


def click_at(page, point: Point) -> None:
    page.mouse.click(*screen_xy(page, point))


def go_to(page, point: Point, zoom: float) -> None:
    page.evaluate(
        "([lon, lat, z]) => window.gridlineMap.map.jumpTo({center: [lon, lat], zoom: z})",
        [point.x, point.y, zoom],
    )
    page.wait_for_timeout(200)
    page.wait_for_selector(READY, timeout=20000)


def test_map_loads_offline_without_errors_and_keeps_screenshots(
    open_map, users, residents, incident
):
    page = open_map(users.street)
    assert page.errors == []
    assert outside_requests(page) == []
    # One composite tile per position: no per-layer tile URLs any more.
    tiles = [u for u in page.requests if "/tiles/" in u]
    assert tiles and all("/tiles/" in u and u.count(".pbf") == 1 for u in tiles)
    positions = {u.split("?")[0] for u in tiles}
    assert len(tiles) == len(positions)
    assert page.evaluate("() => window.gridlineMap.meta.preset") == "street"
    legend = page.locator(".map-legend").inner_text()
    assert "事件" in legend  # the incidents layer explains its counted circles
    screenshot(page, "map-street")
    assert page.locator("#view-figures").get_attribute("data-households") == "4"


def test_district_and_phone_screenshots(open_map, users, residents, incident):
    page = open_map(users.district, size="wide")
    assert page.errors == []
    screenshot(page, "map-district")
    phone = open_map(users.street, size="phone")
    assert phone.errors == []
    screenshot(phone, "map-phone")


def test_clicking_an_incident_opens_its_popup(open_map, users, tree, incident):
    page = open_map(users.street)
    at = centre_of(tree.grids[(1, 1, 1)])
    # The legend explains what is on screen: per-grid counts below the aggregation zoom,
    # the statuses of single incidents above it.
    go_to(page, at, 11)
    page.wait_for_timeout(300)
    legend = page.locator(".map-legend [data-layer=incidents]").inner_text()
    assert "各网格在办事件数" in legend and "已上报" not in legend
    go_to(page, at, 16)
    page.wait_for_timeout(300)
    legend = page.locator(".map-legend [data-layer=incidents]").inner_text()
    assert "已上报" in legend and "各网格在办事件数" not in legend
    click_at(page, at)
    popup = page.wait_for_selector(".incident-popup", timeout=10000)
    assert "校车太挤" in popup.inner_text()
    link = page.locator(".incident-popup a.feature-link")
    assert link.get_attribute("href") == f"/incidents/{incident.pk}/"


def test_clicking_a_grid_with_the_default_layers_opens_its_panel(
    open_map, users, tree, residents, incident
):
    page = open_map(users.street)
    grid = tree.grids[(1, 2, 2)]
    go_to(page, inside(grid), 14)
    click_at(page, inside(grid))
    page.wait_for_selector(f"#panel[data-grid='{grid.code}']", timeout=10000)
    panel = page.locator("#panel")
    assert grid.name in panel.inner_text()
    assert panel.locator("[data-figure=households]").inner_text() == "1"
    assert panel.locator("[data-figure=residents]").inner_text() == "3"
    assert panel.locator("[data-figure=elderly]").inner_text() == "3"
    selected = page.evaluate(
        "(id) => window.gridlineMap.map.getFeatureState("
        "{source: 'gridline', sourceLayer: 'grids', id})",
        grid.pk,
    )
    assert selected.get("selected") is True


def test_layers_toggle_and_the_preset_is_remembered(open_map, users, residents):
    page = open_map(users.street)
    assert not page.evaluate("() => window.gridlineMap.isOn('households')")
    page.locator(".map-layers label", has_text="住户").locator("input").check()
    page.wait_for_selector(READY, timeout=20000)
    assert page.evaluate("() => window.gridlineMap.isOn('households')")
    visibility = page.evaluate(
        "() => window.gridlineMap.map.getLayoutProperty('households-count', 'visibility')"
    )
    assert visibility == "visible"
    page.select_option("#map-preset", "worker")
    page.wait_for_selector(READY, timeout=20000)
    page.reload()
    page.wait_for_selector(READY, timeout=20000)
    assert page.evaluate("() => window.gridlineMap.meta.preset") == "worker"
    assert page.locator("#map-preset").input_value() == "worker"


def test_search_pins_the_place_and_opens_the_grid(open_map, users, tree, residents):
    page = open_map(users.street)
    grid = tree.grids[(1, 1, 2)]
    page.fill("#search", grid.code)
    page.press("#search", "Enter")
    page.wait_for_selector(f"#panel[data-grid='{grid.code}']", timeout=10000)
    page.wait_for_selector(".map-place", timeout=5000)
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
    go_to(page, inside(other), 14)
    grids = page.evaluate(
        "() => window.gridlineMap.map.querySourceFeatures('gridline', {sourceLayer: 'grids'})"
        ".map((f) => f.properties.id)"
    )
    assert set(grids) <= {tree.grids[(1, 1, 1)].pk}
    click_at(page, inside(other))
    page.wait_for_timeout(500)
    assert page.locator("#panel").is_hidden()
