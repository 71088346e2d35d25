"""The base map is a setting: none (offline), an XYZ server, or Tianditu with a key."""

import pytest

from grids.basemap import BadBasemap, basemap_layers


def test_none_is_the_offline_default(settings):
    settings.GRIDLINE_BASEMAP = "none"
    assert basemap_layers() == []


def test_xyz_uses_the_given_server(settings):
    settings.GRIDLINE_BASEMAP = "xyz"
    settings.GRIDLINE_BASEMAP_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    (layer,) = basemap_layers()
    assert layer["url"] == "http://tiles.intranet/{z}/{x}/{y}.png"


def test_tianditu_needs_a_key_and_gives_map_and_labels(settings):
    settings.GRIDLINE_BASEMAP = "tianditu"
    settings.GRIDLINE_TIANDITU_TOKEN = ""
    with pytest.raises(BadBasemap):
        basemap_layers()
    settings.GRIDLINE_TIANDITU_TOKEN = "abc"
    layers = basemap_layers()
    assert [("vec_w" in lay["url"], "cva_w" in lay["url"]) for lay in layers] == [
        (True, False),
        (False, True),
    ]
    assert all("tk=abc" in lay["url"] and "{z}" in lay["url"] for lay in layers)


@pytest.mark.parametrize("kind", ["osm", ""])
def test_unknown_kind_is_refused(settings, kind):
    settings.GRIDLINE_BASEMAP = kind
    with pytest.raises(BadBasemap):
        basemap_layers()


def test_map_page_uses_the_setting(settings, users, client):
    settings.GRIDLINE_BASEMAP = "xyz"
    settings.GRIDLINE_BASEMAP_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    client.force_login(users.street)
    page = client.get("/").content.decode()
    assert "tiles.intranet" in page
