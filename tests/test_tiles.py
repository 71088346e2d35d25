"""Vector tiles: right features in the right tile, scoped, never stale, bad input refused."""

from __future__ import annotations

import gzip
import math

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from grids.services.households import create_household, move_household
from tests.conftest import centre_of


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture
def api():
    """Tiles are a plain Django view: a logged-in session, as the map page has."""

    def client(user=None) -> Client:
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return client


def get(client, layer, z, x, y, **headers):
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=headers)


def decode(response) -> dict:
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body) if body else {}


def features(response, layer) -> list[dict]:
    return decode(response).get(layer, {}).get("features", [])


def test_a_grid_is_in_its_tile_with_its_attributes(users, tree, api):
    grid = tree.grids[(1, 1, 1)]
    centre = centre_of(grid)
    response = get(api(users.admin), "grids", *tile_of(centre.x, centre.y, 13))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    found = {f["id"]: f["properties"] for f in features(response, "grids")}
    assert found[grid.pk]["code"] == grid.code
    assert found[grid.pk]["name"] == grid.name
    assert found[grid.pk]["colour"] == grid.colour
    far = get(api(users.admin), "grids", *tile_of(120.0, 31.0, 13))
    assert features(far, "grids") == []


def test_households_are_points_at_high_zoom_and_counts_per_grid_below(users, homes, tree, api):
    home = homes[(1, 1, 1)]
    client = api(users.admin)
    points = features(
        get(client, "households", *tile_of(home.location.x, home.location.y, 16)), "households"
    )
    assert [f["id"] for f in points] == [home.pk]
    assert points[0]["properties"]["grid_id"] == home.grid_id
    counts = features(get(client, "households", *tile_of(105.95, 29.35, 10)), "households")
    per_grid = {f["properties"]["code"]: f["properties"]["n"] for f in counts}
    assert per_grid == {grid.code: 1 for grid in tree.grids.values()}
    # The per-grid counts follow an edit at once, like the points.
    grid = tree.grids[(1, 1, 1)]
    create_household(address="又一户", location=centre_of(grid))
    counts = features(get(client, "households", *tile_of(105.95, 29.35, 10)), "households")
    assert {f["properties"]["code"]: f["properties"]["n"] for f in counts}[grid.code] == 2
    # A grid worker's counts are of their own grid only; a department sees no households.
    mine = features(get(api(users.worker), "households", *tile_of(105.95, 29.35, 10)), "households")
    assert [(f["properties"]["code"], f["properties"]["n"]) for f in mine] == [(grid.code, 2)]
    department = get(api(users.department), "households", *tile_of(105.95, 29.35, 10))
    assert features(department, "households") == []


def test_tiles_are_scoped_like_everything_else(users, homes, tree, api):
    mine, theirs = homes[(1, 1, 1)], homes[(2, 2, 2)]
    worker = api(users.worker)
    for home, expected in ((mine, [mine.pk]), (theirs, [])):
        tile = tile_of(home.location.x, home.location.y, 16)
        assert [f["id"] for f in features(get(worker, "households", *tile), "households")] == (
            expected
        )
    grids = features(get(worker, "grids", *tile_of(105.95, 29.35, 11)), "grids")
    assert [f["id"] for f in grids] == [tree.grids[(1, 1, 1)].pk]
    department = api(users.department)
    assert features(get(department, "households", *tile_of(105.95, 29.35, 11)), "households") == []


def test_an_edit_is_never_served_stale(users, homes, tree, api):
    client = api(users.admin)
    grid = tree.grids[(1, 1, 1)]
    centre = centre_of(grid)
    tile = tile_of(centre.x, centre.y, 16)
    before = {f["id"] for f in features(get(client, "households", *tile), "households")}
    added, _ = create_household(
        address="新户", location=Point(centre.x + 0.0001, centre.y, srid=4326)
    )
    after = {f["id"] for f in features(get(client, "households", *tile), "households")}
    assert after == before | {added.pk}
    far_grid = tree.grids[(2, 2, 2)]
    move_household(added, centre_of(far_grid))
    moved = {f["id"] for f in features(get(client, "households", *tile), "households")}
    assert moved == before


def test_an_edit_is_never_served_stale_with_a_shared_cache(
    settings, users, homes, tree, api, django_capture_on_commit_callbacks
):
    # The shared-cache protocol (version tokens dropped after commit, per-process recent
    # tiles in front); locmem in one process behaves as a shared cache does.
    settings.GRIDLINE_SHARED_CACHE = True
    client = api(users.admin)
    centre = centre_of(tree.grids[(1, 1, 1)])
    tile = tile_of(centre.x, centre.y, 16)
    before = {f["id"] for f in features(get(client, "households", *tile), "households")}
    assert {f["id"] for f in features(get(client, "households", *tile), "households")} == before
    with django_capture_on_commit_callbacks(execute=True):
        added, _ = create_household(
            address="新户", location=Point(centre.x + 0.0001, centre.y, srid=4326)
        )
    after = {f["id"] for f in features(get(client, "households", *tile), "households")}
    assert after == before | {added.pk}


def test_a_cached_user_is_dropped_when_saved(settings, users, django_capture_on_commit_callbacks):
    from grids.auth import CachedUserBackend

    settings.GRIDLINE_SHARED_CACHE = True
    backend = CachedUserBackend()
    worker = users.worker
    assert backend.get_user(worker.pk).grid_id == worker.grid_id
    with django_capture_on_commit_callbacks(execute=True):
        worker.grid = users.other_worker.grid
        worker.save()
    assert backend.get_user(worker.pk).grid_id == users.other_worker.grid_id
    with django_capture_on_commit_callbacks(execute=True):
        worker.is_active = False
        worker.save()
    assert backend.get_user(worker.pk) is None


def test_etag_and_gzip(users, homes, api):
    client = api(users.admin)
    tile = tile_of(105.95, 29.35, 10)
    first = get(client, "grids", *tile, **{"Accept-Encoding": "gzip"})
    assert first["Content-Encoding"] == "gzip"
    assert first["ETag"]
    again = get(client, "grids", *tile, **{"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    plain = get(client, "grids", *tile)
    assert "Content-Encoding" not in plain
    assert decode(plain) == decode(first)


@pytest.mark.parametrize("z,x,y", [(23, 0, 0), (3, 8, 0), (3, 0, 8), (3, -1, 0), (-1, 0, 0)])
def test_bad_tile_coordinates_are_400(users, api, z, x, y):
    response = get(api(users.admin), "grids", z, x, y)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "bad_tile"


def test_unknown_layer_is_404_and_anonymous_is_401(users, api):
    assert get(api(users.admin), "nothing", 1, 0, 0).status_code == 404
    assert get(api(), "grids", 1, 0, 0).status_code == 401


def test_a_bulk_import_invalidates_tiles(
    users, homes, tree, api, django_capture_on_commit_callbacks
):
    import pandas as pd

    from grids.services.imports import load_households

    client = api(users.admin)
    centre = centre_of(tree.grids[(1, 1, 1)])
    tile = tile_of(centre.x, centre.y, 16)
    before = len(features(get(client, "households", *tile), "households"))
    table = pd.DataFrame(
        {"row": [1], "address": ["批量户"], "lon": [centre.x + 0.0002], "lat": [centre.y]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = load_households(table, commit=True)
    assert report.written == 1
    assert len(features(get(client, "households", *tile), "households")) == before + 1
