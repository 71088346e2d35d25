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
