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


# The command-centre map (MapLibre, issue #16): the base map in the style, and an offline
# base map as one PMTiles file the app serves in byte ranges.


def make_pmtiles(path, tile_type: str) -> bytes:
    """A small PMTiles file: one z0 tile, vector (water over the whole world) or a PNG."""
    import mapbox_vector_tile
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    world = "POLYGON((0 0,4096 0,4096 4096,0 4096,0 0))"  # the whole tile, in tile units
    if tile_type == "mvt":
        data = mapbox_vector_tile.encode(
            [
                {
                    "name": "water",
                    "features": [{"geometry": world, "properties": {}}],
                }
            ]  # fmt: skip
        )
        kind, layers = TileType.MVT, [{"id": "water", "fields": {}}, {"id": "roads", "fields": {}}]
    else:
        data = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        kind, layers = TileType.PNG, []
    with write(str(path)) as writer:
        writer.write_tile(zxy_to_tileid(0, 0, 0), data)
        writer.finalize(
            {"tile_type": kind, "tile_compression": Compression.NONE},
            {"attribution": "测试底图", "vector_layers": layers},
        )
    return path.read_bytes()


def style_of(client, theme="light") -> dict:
    response = client.get(f"/api/map/style.json?theme={theme}")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_style_has_no_base_map_when_none(settings, users, client):
    settings.GRIDLINE_BASEMAP = "none"
    client.force_login(users.street)
    style = style_of(client)
    assert set(style["sources"]) == {"gridline"}
    assert not [layer for layer in style["layers"] if layer["id"].startswith("basemap")]


def test_the_style_draws_xyz_and_tianditu_as_rasters(settings, users, client):
    client.force_login(users.street)
    settings.GRIDLINE_BASEMAP = "xyz"
    settings.GRIDLINE_BASEMAP_URL = "http://{s}.tiles.intranet/{z}/{x}/{y}.png"
    assert style_of(client)["sources"]["basemap-0"]["tiles"] == [
        f"http://{s}.tiles.intranet/{{z}}/{{x}}/{{y}}.png" for s in "abc"
    ]
    settings.GRIDLINE_BASEMAP = "tianditu"
    settings.GRIDLINE_TIANDITU_TOKEN = "abc"
    style = style_of(client)
    assert len(style["sources"]["basemap-0"]["tiles"]) == 8  # t0 … t7
    assert "vec_w" in style["sources"]["basemap-0"]["tiles"][0]
    assert "cva_w" in style["sources"]["basemap-1"]["tiles"][0]
    ids = [layer["id"] for layer in style["layers"]]
    # Background, then the base map, then the platform's layers.
    assert ids[:3] == ["background", "basemap-0", "basemap-1"]


def test_a_vector_pmtiles_file_gets_a_quiet_style_of_its_layers(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    make_pmtiles(tmp_path / "base.pmtiles", "mvt")
    client.force_login(users.street)
    style = style_of(client, "dark")
    assert style["sources"]["basemap"] == {
        "type": "vector",
        "url": "pmtiles://http://testserver/basemap.pmtiles",
        "attribution": "测试底图",
    }
    basemap = [layer for layer in style["layers"] if layer.get("source") == "basemap"]
    # Only the file's own layers are styled.
    assert {layer["source-layer"] for layer in basemap} == {"water", "roads"}


def test_a_raster_pmtiles_file_is_a_raster_source(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    make_pmtiles(tmp_path / "base.pmtiles", "png")
    client.force_login(users.street)
    style = style_of(client)
    assert style["sources"]["basemap"]["type"] == "raster"
    assert [layer["id"] for layer in style["layers"][:2]] == ["background", "basemap-raster"]


def test_a_missing_pmtiles_file_is_said_plainly(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "nothing.pmtiles")
    client.force_login(users.street)
    response = client.get("/api/map/style.json")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "basemap_misconfigured"


def test_the_pmtiles_file_is_served_in_ranges_to_logged_in_users(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    whole = make_pmtiles(tmp_path / "base.pmtiles", "mvt")
    size = len(whole)
    assert client.get("/basemap.pmtiles").status_code == 401
    client.force_login(users.street)
    part = client.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert part.status_code == 206
    assert part.content == whole[:127]
    assert part["Content-Range"] == f"bytes 0-126/{size}"
    assert part["Accept-Ranges"] == "bytes"
    tail = client.get("/basemap.pmtiles", headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, whole[-10:])
    open_ended = client.get("/basemap.pmtiles", headers={"Range": f"bytes={size - 5}-"})
    assert open_ended.content == whole[-5:]
    beyond = client.get("/basemap.pmtiles", headers={"Range": f"bytes={size}-{size + 10}"})
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{size}"
    full = client.get("/basemap.pmtiles")
    assert full.status_code == 200
    assert b"".join(full.streaming_content) == whole
    # A range of a file replaced since (If-Range no longer matches) is the whole new file.
    stale = client.get("/basemap.pmtiles", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200


def test_no_pmtiles_file_is_404(settings, users, client):
    settings.GRIDLINE_BASEMAP = "none"
    client.force_login(users.street)
    response = client.get("/basemap.pmtiles")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
