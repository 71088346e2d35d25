"""An offline base map as one PMTiles file (issue #16) in headless Chromium: the map reads it
from the app in byte ranges and draws it under the platform's layers; the tiles are one
composite request per position; nothing leaves localhost."""

from __future__ import annotations

import pytest

from tests.browser_support import (  # noqa: F401
    browser,
    needs_chromium,
    open_page,
    outside_requests,
    screenshot,
)
from tests.test_basemap import make_pmtiles

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
READY = "body[data-map-ready='1']"


def test_a_pmtiles_base_map_is_drawn(settings, browser, live_server, users, tmp_path):  # noqa: F811
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    make_pmtiles(tmp_path / "base.pmtiles", "mvt")
    page = open_page(browser, live_server.url, users.street, wait_for=READY)
    # The base map's water (one polygon over the world in the file's only tile) is drawn.
    page.wait_for_function(
        "() => window.gridlineMap.map.queryRenderedFeatures()"
        ".some((f) => f.layer.id.startsWith('basemap-water'))",
        timeout=30000,
    )
    assert any(u.endswith("/basemap.pmtiles") for u in page.requests)
    tiles = [u for u in page.requests if "/tiles/" in u]
    positions = {u.split("/tiles/")[1].split(".pbf")[0] for u in tiles}
    # One request per position: the composite tile holds every layer on.
    assert len(tiles) == len(positions), tiles
    assert outside_requests(page) == []
    assert page.errors == []
    screenshot(page, "map_pmtiles_basemap")
    page.close()


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_a_missing_base_map_file_leaves_the_map_drawn_with_a_notice(
    settings,
    browser,  # noqa: F811
    live_server,
    users,
    tmp_path,
    size,
):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "moved-away.pmtiles")
    page = open_page(browser, live_server.url, users.street, size=size, wait_for=READY)
    notice = page.locator(".map-notice")
    assert notice.is_visible() and "底图无法显示" in notice.inner_text()
    # The platform's layers are drawn; the notice covers none of the map's controls.
    page.wait_for_function(
        "() => window.gridlineMap.map.queryRenderedFeatures().some((f) => f.source === 'gridline')",
        timeout=30000,
    )
    box = notice.bounding_box()
    for control in page.locator(".maplibregl-ctrl, .map-figures, .map-search").all():
        other = control.bounding_box()
        if other and control.is_visible():
            assert (
                box["x"] + box["width"] <= other["x"]
                or other["x"] + other["width"] <= box["x"]
                or box["y"] + box["height"] <= other["y"]
                or other["y"] + other["height"] <= box["y"]
            ), control.get_attribute("class")
    assert not any(u.endswith("/basemap.pmtiles") for u in page.requests)
    assert page.errors == []
    screenshot(page, f"map_basemap_missing_{size}")
    page.close()
