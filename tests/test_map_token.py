"""The map's style, TileJSON and cold composite tiles answer a token in the Authorization
header as they answer a session (issue #18: the field app's phones have no session)."""

from __future__ import annotations

from django.test import Client

from grids.services import tokens
from tests.conftest import centre_of
from tests.test_map_style import decode, ids, tile_path
from tests.test_tiles import tile_of


def test_a_device_token_gets_the_style_the_tilejson_and_a_cold_tile(users, homes, tree):
    _token, secret = tokens.issue(users.worker, "手机", kind="device")
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    style = client.get("/api/map/style.json?preset=worker")
    assert style.status_code == 200
    assert "Authorization" in style["Vary"]
    doc = client.get("/api/map/tiles.json?layers=households").json()
    home = homes[(1, 1, 1)]
    response = client.get(
        tile_path(doc["tiles"][0], *tile_of(home.location.x, home.location.y, 16))
    )
    assert response.status_code == 200
    assert home.pk in ids(decode(response), "households")
    # The signed URL is the token holder's: another user's token is refused on it.
    _other, other_secret = tokens.issue(users.admin, "别人的", kind="api")
    other = Client(HTTP_AUTHORIZATION=f"Token {other_secret}")
    x, y = centre_of(tree.grids[(1, 1, 1)]).coords
    refused = other.get(tile_path(doc["tiles"][0], *tile_of(x, y, 15)))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "wrong_holder"


def test_a_bad_token_is_a_401_not_an_error(users):
    client = Client(HTTP_AUTHORIZATION="Token gl_not-a-real-token")
    for path in ("/api/map/style.json", "/api/map/tiles.json?layers=households"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "not_authenticated"
