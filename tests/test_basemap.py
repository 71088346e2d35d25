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


def test_a_missing_pmtiles_file_is_left_out_not_named(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "nothing.pmtiles")
    client.force_login(users.street)
    response = client.get("/api/map/style.json")
    # The platform's layers without a base map, and no server path in the answer.
    assert response.status_code == 200
    assert response.json()["metadata"]["gridline"]["basemapMissing"] is True
    assert "nothing.pmtiles" not in response.content.decode()


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


# Review 1: H5 (ranges), M3 (a broken base map leaves the map up), L3 (header read once per
# file version, no server path to users).


def test_a_range_number_too_long_is_416_json_not_a_500(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    size = len(make_pmtiles(tmp_path / "base.pmtiles", "mvt"))
    client.force_login(users.street)
    for asked in ("bytes=" + "1" * 5000 + "-", "bytes=0-" + "9" * 16, "bytes=-" + "9" * 5000):
        response = client.get("/basemap.pmtiles", headers={"Range": asked})
        assert response.status_code == 416
        assert response["Content-Range"] == f"bytes */{size}"
        (error,) = response.json()["errors"]
        assert (error["code"], error["field"]) == ("bad_range", "Range")


def test_a_long_range_is_streamed_not_read_into_memory(
    settings, users, client, tmp_path, monkeypatch
):
    from maps import basemap_file

    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "base.pmtiles")
    whole = make_pmtiles(tmp_path / "base.pmtiles", "mvt")
    # As a multi-GB file's `bytes=0-` against the real 1 MB, in small numbers.
    monkeypatch.setattr(basemap_file, "READ_AT_ONCE", 64)
    monkeypatch.setattr(basemap_file, "CHUNK", 50)
    client.force_login(users.street)
    response = client.get("/basemap.pmtiles", headers={"Range": "bytes=10-"})
    assert response.status_code == 206 and response.streaming
    assert b"".join(response.streaming_content) == whole[10:]
    assert response["Content-Length"] == str(len(whole) - 10)
    assert response["Content-Range"] == f"bytes 10-{len(whole) - 1}/{len(whole)}"
    small = client.get("/basemap.pmtiles", headers={"Range": "bytes=0-63"})
    assert not small.streaming and small.content == whole[:64]


def test_a_missing_base_map_leaves_the_map_up_with_a_notice(settings, users, client, tmp_path):
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "secret-dir" / "nothing.pmtiles")
    client.force_login(users.street)
    page = client.get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="map-notice"' in text and "底图无法显示" in text
    assert "secret-dir" not in text
    style = style_of(client)
    assert style["metadata"]["gridline"]["basemapMissing"] is True
    assert "basemap" not in style["sources"] and "gridline" in style["sources"]
    settings.GRIDLINE_BASEMAP = "osm"  # a wrong kind: the same
    assert client.get("/").status_code == 200
    settings.GRIDLINE_BASEMAP = "none"  # no base map by choice: no notice
    assert 'class="map-notice"' not in client.get("/").content.decode()
    assert style_of(client)["metadata"]["gridline"]["basemapMissing"] is False


def test_the_pmtiles_header_is_read_again_only_when_the_file_changes(settings, tmp_path):
    import os

    from grids.basemap import pmtiles_header

    settings.GRIDLINE_BASEMAP = "pmtiles"
    path = tmp_path / "base.pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = str(path)
    whole = make_pmtiles(path, "mvt")
    header, metadata = pmtiles_header()
    stat = os.stat(path)
    # Garbage of the same size and time: not read again, so still the header read before.
    path.write_bytes(b"\0" * len(whole))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert pmtiles_header() == (header, metadata)
    # Replaced (a new time): read again, and this garbage is refused.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(BadBasemap):
        pmtiles_header()


def test_the_system_check_says_a_wrong_base_map_at_start(settings, tmp_path):
    from maps.checks import basemap_setting

    settings.GRIDLINE_BASEMAP = "none"
    assert basemap_setting() == []
    settings.GRIDLINE_BASEMAP = "osm"
    assert [m.id for m in basemap_setting()] == ["maps.E001"]
    settings.GRIDLINE_BASEMAP = "xyz"
    settings.GRIDLINE_BASEMAP_URL = ""
    assert [m.id for m in basemap_setting()] == ["maps.E001"]
    settings.GRIDLINE_BASEMAP = "pmtiles"
    settings.GRIDLINE_BASEMAP_PMTILES = ""
    assert [m.id for m in basemap_setting()] == ["maps.E001"]
    settings.GRIDLINE_BASEMAP_PMTILES = str(tmp_path / "later.pmtiles")
    assert [m.id for m in basemap_setting()] == ["maps.W001"]
    make_pmtiles(tmp_path / "later.pmtiles", "png")
    assert basemap_setting() == []
