"""The map's style, TileJSON and composite tile (issue #16): one tile per position holding the
layers on, each scoped and versioned on its own; signed URLs served from the cache before
Django; every refusal a 4xx with a reason, never data."""

from __future__ import annotations

import gzip
import io
import time
from urllib.parse import parse_qs, urlsplit

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from config.wsgi import application as wsgi_application
from grids.services.households import create_household
from maps import composite, fastpath, registry
from maps.registry import Layer
from tests.conftest import centre_of
from tests.test_tiles import tile_of

# Per request: the session, the user, the layers' versions, the extent, filter choices.
STYLE_QUERIES = 8
TILEJSON_QUERIES = 5


def client_of(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def tilejson(client, query: str, status: int = 200) -> dict:
    response = client.get(f"/api/map/tiles.json?{query}")
    assert response.status_code == status, response.content
    return response.json()


def tile_path(template: str, z: int, x: int, y: int) -> str:
    parts = urlsplit(template)
    path = parts.path.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    return f"{path}?{parts.query}"


def decode(response) -> dict:
    body = response.content if hasattr(response, "content") else response
    if hasattr(response, "get") and response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body) if body else {}


def ids(tile: dict, layer: str) -> set:
    return {f["id"] for f in tile.get(layer, {}).get("features", [])}


def wsgi_get(path_and_query: str, **headers) -> tuple[str, dict, bytes]:
    """A GET through the deployed WSGI application (the fast path, then Django): no cookie."""
    path, _, query = path_and_query.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    # As Django's test client does: the request's end must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(wsgi_application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def test_one_tile_holds_every_requested_layer(users, homes, tree):
    client = client_of(users.admin)
    doc = tilejson(client, "layers=households,grids")
    assert doc["tilejson"] == "3.0.0"
    assert [layer["id"] for layer in doc["vector_layers"]] == ["grids", "households"]
    assert doc["maxzoom"] == 16
    home = homes[(1, 1, 1)]
    response = client.get(
        tile_path(doc["tiles"][0], *tile_of(home.location.x, home.location.y, 16))
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "immutable" in response["Cache-Control"]
    tile = decode(response)
    assert set(tile) == {"grids", "households"}
    assert home.pk in ids(tile, "households")
    assert tree.grids[(1, 1, 1)].pk in ids(tile, "grids")
    # Below the grids' min_zoom (11) the layer is left out; households are counted per grid.
    low = decode(client.get(tile_path(doc["tiles"][0], *tile_of(105.95, 29.35, 10))))
    assert set(low) == {"households"}
    assert all("n" in f["properties"] for f in low["households"]["features"])


@pytest.mark.parametrize("shared", [False, True])
def test_the_url_changes_with_the_data_and_only_the_changed_part_is_rebuilt(
    settings, users, homes, tree, monkeypatch, django_capture_on_commit_callbacks, shared
):
    # Shared: the versions are tokens in the cache, dropped after the commit (locmem in one
    # process behaves as a shared cache does); else the database's counters.
    settings.GRIDLINE_SHARED_CACHE = shared
    client = client_of(users.admin)
    centre = centre_of(tree.grids[(1, 1, 1)])
    z_x_y = tile_of(centre.x, centre.y, 16)
    before = tilejson(client, "layers=grids,households")["tiles"][0]
    first = decode(client.get(tile_path(before, *z_x_y)))
    built = []
    real = composite.build_parts
    monkeypatch.setattr(
        composite,
        "build_parts",
        lambda missing, *a: built.append([m[0].name for m in missing]) or real(missing, *a),
    )
    with django_capture_on_commit_callbacks(execute=True):
        added, _ = create_household(
            address="新户", location=Point(centre.x + 0.0001, centre.y, srid=4326)
        )
    after = tilejson(client, "layers=grids,households")["tiles"][0]
    assert after != before  # the versions in the URL
    second = decode(client.get(tile_path(after, *z_x_y)))
    assert ids(second, "households") == ids(first, "households") | {added.pk}
    assert built == [["households"]]  # the grids' part came from the cache
    # The old URL never serves stale data either: it is built afresh under today's versions.
    assert added.pk in ids(decode(client.get(tile_path(before, *z_x_y))), "households")


def test_a_user_of_another_jurisdiction_gets_none_of_these_features(users, homes, tree):
    mine = homes[(1, 1, 1)]
    position = tile_of(mine.location.x, mine.location.y, 16)
    for user, expected in ((users.worker, {mine.pk}), (users.other_worker, set())):
        client = client_of(user)
        doc = tilejson(client, "layers=grids,households")
        tile = decode(client.get(tile_path(doc["tiles"][0], *position)))
        assert ids(tile, "households") == expected
        assert ids(tile, "grids") == ({mine.grid_id} if expected else set())


def test_another_users_url_is_refused_by_django(users, homes):
    doc = tilejson(client_of(users.worker), "layers=households")
    path = tile_path(doc["tiles"][0], *tile_of(105.95, 29.35, 10))
    response = client_of(users.other_worker).get(path)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "wrong_holder"
    assert client_of().get(path).status_code == 401


def test_a_cached_tile_is_served_before_django_and_others_fall_through(users, homes, tree):
    client = client_of(users.admin)
    doc = tilejson(client, "layers=grids,households")
    centre = centre_of(tree.grids[(1, 1, 1)])
    path = tile_path(doc["tiles"][0], *tile_of(centre.x, centre.y, 16))
    # Not cached yet: the fast path passes it to Django, which wants the session.
    status, _, body = wsgi_get(path)
    assert status.startswith("401")
    built = client.get(path, headers={"Accept-Encoding": "gzip"})
    # Cached: the signed URL is enough, no session read.
    status, headers, body = wsgi_get(path, **{"Accept-Encoding": "gzip"})
    assert status == "200 OK"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["ETag"] == built["ETag"]
    assert body == built.content
    assert headers["Cache-Control"].startswith("private, max-age=")
    status, _, _ = wsgi_get(path, **{"If-None-Match": built["ETag"]})
    assert status.startswith("304")
    status, headers, plain = wsgi_get(path)
    assert "Content-Encoding" not in headers
    assert mapbox_vector_tile.decode(plain) == decode(built)
    # A tampered URL is not served from the cache: Django says why.
    status, _, body = wsgi_get(path.replace("households", "buildings"))
    assert status.startswith("403")
    assert b"bad_signature" in body


def test_a_deactivated_users_urls_stop_working(users, homes, django_capture_on_commit_callbacks):
    client = client_of(users.street)
    doc = tilejson(client, "layers=grids")
    path = tile_path(doc["tiles"][0], *tile_of(105.93, 29.33, 12))
    assert client.get(path).status_code == 200
    assert wsgi_get(path)[0] == "200 OK"
    with django_capture_on_commit_callbacks(execute=True):
        users.street.is_active = False
        users.street.save()
    status, _, body = wsgi_get(path)
    assert status.startswith("403") and b"revoked" in body
    with django_capture_on_commit_callbacks(execute=True):
        users.street.is_active = True
        users.street.save()
    assert wsgi_get(path)[0] == "200 OK"


def test_an_expired_or_unsigned_url_is_refused(users, homes):
    client = client_of(users.admin)
    doc = tilejson(client, "layers=grids")
    path = tile_path(doc["tiles"][0], 12, 3316, 1700)
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query, keep_blank_values=True).items()}
    query["e"] = str(int(time.time()) - 1)
    expired = "/tiles/12/3316/1700.pbf?" + fastpath.signed_query(query)
    response = client.get(expired)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "expired")
    response = client.get("/tiles/12/3316/1700.pbf")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "missing"


@pytest.mark.parametrize("z,x,y", [(23, 0, 0), (3, 8, 0), (3, 0, 8)])
def test_bad_tile_coordinates_are_400(users, z, x, y):
    client = client_of(users.admin)
    doc = tilejson(client, "layers=grids")
    response = client.get(tile_path(doc["tiles"][0], z, x, y))
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "bad_tile",
        "message": response.json()["errors"][0]["message"],
        "field": "z/x/y",
    }


@pytest.fixture
def secret_layer(monkeypatch):
    """A layer only administrators may see."""
    grids = registry.get("grids")
    layer = Layer(
        name="secret",
        title="secret",
        queryset=grids.queryset,
        geometry="geom",
        attributes=("fid",),
        kind="polygon",
        roles=frozenset({"administrator"}),
    )
    monkeypatch.setitem(registry._layers, "secret", layer)
    return layer


@pytest.mark.parametrize(
    "query,field,code",
    [
        ("", "layers", "required"),
        ("layers=nothing", "layers", "unknown_layer"),
        ("layers=grids,secret", "layers", "forbidden_layer"),
        ("layers=sensors&sensors.colour=red", "sensors.colour", "bad_filter"),
        ("layers=sensors&sensors.status=burning", "sensors.status", "bad_filter"),
        ("layers=grids&sensors.status=offline", "sensors.status", "unknown_filter"),
        ("layers=grids&zoom=3", "zoom", "unknown_parameter"),
    ],
)
def test_tilejson_refuses_bad_input_naming_the_field(users, secret_layer, query, field, code):
    body = tilejson(client_of(users.street), query, 400)
    assert body["status"] == 400
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, code)


def test_tilejson_wants_a_login(db):
    assert client_of().get("/api/map/tiles.json?layers=grids").status_code == 401


def test_filters_are_part_of_the_signed_url(users):
    client = client_of(users.admin)
    doc = tilejson(client, "layers=sensors&sensors.status=offline&sensors.type=camera,water_tank")
    query = parse_qs(urlsplit(doc["tiles"][0]).query)
    assert query["f"] == ["sensors.status=offline;sensors.type=camera,water_tank"]
    # The same choice in another order is the same URL (one cache).
    again = tilejson(
        client, "sensors.type=water_tank&sensors.type=camera&layers=sensors&sensors.status=offline"
    )
    assert again["tiles"] == doc["tiles"]
    assert client.get(tile_path(doc["tiles"][0], 14, 13010, 6657)).status_code == 200


def test_style_has_every_visible_layer_and_the_preset_on(users, tree):
    client = client_of(users.street)
    response = client.get("/api/map/style.json?theme=dark")
    assert response.status_code == 200
    style = response.json()
    meta = style["metadata"]["gridline"]
    assert style["version"] == 8
    assert meta["preset"] == "street" and meta["theme"] == "dark"
    assert "{fontstack}/{range}.pbf" in style["glyphs"]
    assert style["sources"]["gridline"]["tiles"][0].startswith(
        "http://testserver/tiles/{z}/{x}/{y}.pbf?"
    )
    visible = {layer.name for layer in registry.layers_for(users.street)}
    by_layer = {}
    for layer in style["layers"][1:]:
        assert layer["source"] == "gridline"
        assert layer["id"].startswith(layer["source-layer"] + "-")
        by_layer.setdefault(layer["source-layer"], set()).add(layer["layout"]["visibility"])
    assert set(by_layer) == visible
    preset = registry.get_preset("street")
    for name, visibility in by_layer.items():
        assert visibility == {"visible" if name in preset.layers else "none"}
    assert set(meta["on"]) == set(preset.layers) & visible
    assert meta["extent"] == pytest.approx(list(tree.streets[1].boundary_on().extent))
    assert meta["urls"]["events"] == "/events/"
    assert {p["name"] for p in meta["presets"]} >= {"street", "worker", "fire"}
    layer_meta = {layer["name"]: layer for layer in meta["layers"]}
    assert set(layer_meta) == visible
    assert {"title", "kind", "minZoom", "aggregatedBelow", "legend", "module", "link",
            "label", "filters", "style"} <= set(layer_meta["sensors"])  # fmt: skip
    # The style's tile URL works for this user.
    tile = client.get(tile_path(style["sources"]["gridline"]["tiles"][0], 12, 3316, 1700))
    assert tile.status_code == 200


@pytest.mark.parametrize(
    "query,field,code",
    [
        ("preset=nothing", "preset", "unknown_preset"),
        ("theme=pink", "theme", "bad_theme"),
    ],
)
def test_style_refuses_unknown_preset_and_theme(users, query, field, code):
    response = client_of(users.street).get(f"/api/map/style.json?{query}")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)


def test_a_preset_turns_on_its_layers_and_filters(users, tree):
    style = client_of(users.admin).get("/api/map/style.json?preset=fire").json()
    meta = style["metadata"]["gridline"]
    fire = registry.get_preset("fire")
    assert meta["on"] == [
        layer.name for layer in registry.layers_for(users.admin) if layer.name in fire.layers
    ]
    query = parse_qs(urlsplit(style["sources"]["gridline"]["tiles"][0]).query)
    assert query["f"][0].startswith("sensors.role=")
    assert client_of().get("/api/map/style.json").status_code == 401


def test_query_counts_are_pinned(users, tree, django_assert_num_queries):
    client = client_of(users.street)
    client.get("/api/map/style.json")  # the session and the user, read once
    with django_assert_num_queries(STYLE_QUERIES):
        assert client.get("/api/map/style.json").status_code == 200
    with django_assert_num_queries(TILEJSON_QUERIES):
        assert client.get("/api/map/tiles.json?layers=grids,incidents").status_code == 200
