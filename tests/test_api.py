"""The HTTP API: error bodies, filters, GeoJSON pages, writes, auth, docs, roll-ups, queries."""

from __future__ import annotations

import datetime as dt
import os
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.gis.geos import Point
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient
from shapely.geometry import box

from grids.models import Household
from grids.services import boundaries
from grids.services import households as household_service
from grids.services.crs import wgs84_to_gcj02
from tests.conftest import centre_of


@pytest.fixture(autouse=True)
def fast_setup(settings, tmp_path):
    """Users are made per test, and every API client starts WhiteNoise, which walks
    STATIC_ROOT: a fast hasher and an empty static root keep the run short (and safe from a
    `collectstatic` running at the same time)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATIC_ROOT = tmp_path / "static"


def errors(response, status: int) -> list[dict]:
    """The error body every failure answers with; returns its errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "errors"}
    assert body["status"] == status
    assert body["errors"], body
    for error in body["errors"]:
        assert error["code"] and isinstance(error["code"], str)
        assert error["message"] and isinstance(error["message"], str)
    return body["errors"]


def fields(response, status: int = 400) -> set:
    return {error.get("field") for error in errors(response, status)}


def resident(**overrides) -> dict:
    return {
        "name": "张三丰",
        "id_number": "500118199001011234",
        "phone": "13812345678",
        "birth_date": dt.date(1990, 1, 1),
        "sex": "M",
        **overrides,
    }


def point_json(point: Point) -> dict:
    return {"type": "Point", "coordinates": [point.x, point.y]}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [feature["id"] for feature in response.json()["features"]]


# ---------------------------------------------------------------- error bodies


@pytest.mark.parametrize("endpoint", ["regions", "grids", "households"])
@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "106,29,105,30", "105,29.4,106,29.3", "0,0,200,10", ""]
)
def test_bad_bbox_names_the_field(users, api, endpoint, bbox):
    response = api(users.admin).get(f"/api/{endpoint}/", {"bbox": bbox})
    if bbox == "":
        assert response.status_code == 200  # an empty filter is no filter
        return
    assert fields(response) == {"bbox"}


@pytest.mark.parametrize(
    "url", ["/api/regions/", "/api/grids/", "/api/stats/rollup/", "/api/export/grids.geojson"]
)
@pytest.mark.parametrize("on", ["2024-13-01", "yesterday", "01/02/2024"])
def test_bad_date_names_the_field(users, api, url, on):
    assert fields(api(users.admin).get(url, {"on": on})) == {"on"}


def test_post_household_without_address(tree, users, api):
    response = api(users.worker).post(
        "/api/households/",
        {"location": point_json(centre_of(tree.grids[(1, 1, 1)]))},
        format="json",
    )
    assert fields(response) == {"address"}
    assert not Household.objects.exists()


def test_post_household_without_location(tree, users, api):
    client = api(users.worker)
    assert fields(client.post("/api/households/", {"address": "x"}, format="json")) == {"location"}
    response = client.post("/api/households/", {"address": "x", "lon": 105.91}, format="json")
    assert fields(response) == {"location"}
    assert not Household.objects.exists()


def test_post_household_coordinates_out_of_range(tree, users, api):
    client = api(users.admin)
    response = client.post(
        "/api/households/",
        {"address": "x", "location": {"type": "Point", "coordinates": [200.0, 29.3]}},
        format="json",
    )
    assert fields(response) == {"location"}
    response = client.post(
        "/api/households/",
        {"address": "x", "location": {"type": "Point", "coordinates": [105.9, 95.0]}},
        format="json",
    )
    assert fields(response) == {"location"}
    response = client.post("/api/households/", {"address": "x", "lon": 200, "lat": 29.3})
    assert fields(response) == {"lon"}
    response = client.post("/api/households/", {"address": "x", "lon": 105.9, "lat": -91})
    assert fields(response) == {"lat"}
    assert not Household.objects.exists()


def test_post_household_not_a_point(tree, users, api):
    response = api(users.admin).post(
        "/api/households/",
        {
            "address": "x",
            "location": {"type": "LineString", "coordinates": [[105.91, 29.31], [105.92, 29.32]]},
        },
        format="json",
    )
    assert fields(response) == {"location"}


@pytest.mark.parametrize("crs", ["EPSG:999999", "MARS-42", "not a crs"])
def test_post_household_unknown_crs(tree, users, api, crs):
    response = api(users.worker).post(
        "/api/households/",
        {"address": "x", "location": point_json(centre_of(tree.grids[(1, 1, 1)])), "crs": crs},
        format="json",
    )
    assert fields(response) == {"crs"}
    assert not Household.objects.exists()


def test_post_household_outside_jurisdiction(tree, users, api):
    client = api(users.worker)
    for where in (centre_of(tree.grids[(2, 2, 2)]), Point(106.05, 29.35, srid=4326)):
        response = client.post(
            "/api/households/", {"address": "x", "location": point_json(where)}, format="json"
        )
        [error] = errors(response, 400)
        assert error["code"] == "outside_jurisdiction"
        assert error["field"] == "location"
    assert not Household.objects.exists()


def test_unknown_export_layer_and_format(users, api):
    client = api(users.admin)
    assert fields(client.get("/api/export/parcels.geojson")) == {"layer"}
    assert fields(client.get("/api/export/households.xlsx")) == {"format"}
    assert fields(client.get("/api/export/parcels.xlsx")) == {"layer"}


def test_not_found_body(tree, users, api):
    client = api(users.admin)
    for url in (
        "/api/households/999999999/",
        "/api/grids/999999999/",
        "/api/regions/999999999/",
        "/api/residents/999999999/",
        "/api/households/999999999/residents/",
    ):
        [error] = errors(client.get(url), 404)
        assert error["code"] == "not_found"


def test_method_not_allowed_body(homes, users, api):
    household = homes[(1, 1, 1)]
    [error] = errors(api(users.admin).delete(f"/api/households/{household.pk}/"), 405)
    assert error["code"] == "method_not_allowed"
    assert Household.objects.filter(pk=household.pk).exists()


def test_rollup_unknown_level(users, api):
    assert fields(api(users.admin).get("/api/stats/rollup/", {"level": "province"})) == {"level"}


@pytest.mark.parametrize("limit", ["abc", "-5"])
def test_resident_list_bad_limit_is_a_400(homes, users, api, limit):
    """A malformed `limit` is the client's mistake: a 400 naming the field, not a 500."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(users.admin)
    assert fields(client.get("/api/residents/", {"limit": limit})) == {"limit"}


# ---------------------------------------------------------------- bbox and on filters

INSIDE_111 = "105.905,29.305,105.92,29.34"  # strictly inside grid (1,1,1)
ACROSS_111_112 = "105.91,29.31,105.94,29.34"  # grids (1,1,1) and (1,1,2)
FAR_AWAY = "100.0,20.0,100.1,20.1"


def test_bbox_on_regions(tree, users, api):
    client = api(users.admin)
    expected = [tree.district.pk, tree.streets[1].pk, tree.communities[(1, 1)].pk]
    assert sorted(ids(client.get("/api/regions/", {"bbox": INSIDE_111}))) == sorted(expected)
    assert ids(client.get("/api/regions/", {"bbox": FAR_AWAY})) == []


def test_bbox_on_grids(tree, users, api):
    client = api(users.admin)
    grids = tree.grids
    assert ids(client.get("/api/grids/", {"bbox": INSIDE_111})) == [grids[(1, 1, 1)].pk]
    assert ids(client.get("/api/grids/", {"bbox": ACROSS_111_112})) == [
        grids[(1, 1, 1)].pk,
        grids[(1, 1, 2)].pk,
    ]
    assert ids(client.get("/api/grids/", {"bbox": FAR_AWAY})) == []


def test_bbox_on_households(homes, users, api):
    client = api(users.admin)
    assert ids(client.get("/api/households/", {"bbox": INSIDE_111})) == [homes[(1, 1, 1)].pk]
    assert sorted(ids(client.get("/api/households/", {"bbox": ACROSS_111_112}))) == sorted(
        [homes[(1, 1, 1)].pk, homes[(1, 1, 2)].pk]
    )
    assert ids(client.get("/api/households/", {"bbox": FAR_AWAY})) == []


def test_bbox_is_still_scoped(homes, users, api):
    client = api(users.worker)
    assert ids(client.get("/api/households/", {"bbox": ACROSS_111_112})) == [homes[(1, 1, 1)].pk]
    assert ids(client.get("/api/grids/", {"bbox": "105.9,29.3,106.0,29.4"})) == [
        homes[(1, 1, 1)].grid_id
    ]


def x_range(feature) -> tuple[float, float]:
    xs = [x for ring in feature["geometry"]["coordinates"][0] for x, _ in ring]
    return min(xs), max(xs)


def test_on_date_gives_the_boundary_valid_then(tree, users, api):
    grid = tree.grids[(1, 1, 1)]
    change_on = dt.date(2025, 1, 1)
    boundaries.change_boundary(
        grid, box(105.90, 29.30, 105.92, 29.35), valid_from=change_on, reason="test"
    )
    assert grid.boundaries.count() == 2
    client = api(users.admin)

    def feature(on: str | None):
        params = {"code": grid.code} | ({"on": on} if on else {})
        [found] = client.get("/api/grids/", params).json()["features"]
        detail = client.get(f"/api/grids/{grid.pk}/", {"on": on} if on else {}).json()
        assert x_range(detail) == x_range(found)
        return found

    assert x_range(feature("2024-06-01")) == (105.90, 105.925)
    assert x_range(feature("2024-12-31")) == (105.90, 105.925)
    assert x_range(feature("2025-01-01")) == (105.90, 105.92)
    assert x_range(feature(None)) == (105.90, 105.92)
    # before the tree existed there is no grid at all
    assert ids(client.get("/api/grids/", {"on": "2023-06-01"})) == []
    assert ids(client.get("/api/regions/", {"on": "2023-06-01"})) == []
    # bbox goes through the versions valid on the date asked for
    gap = "105.921,29.31,105.924,29.34"  # left out of (1,1,1) by the redraw
    assert ids(client.get("/api/grids/", {"bbox": gap})) == []
    assert ids(client.get("/api/grids/", {"bbox": gap, "on": "2024-06-01"})) == [grid.pk]


# ---------------------------------------------------------------- GeoJSON pages and figures


def test_feature_collection_pages(tree, homes, users, api):
    client = api(users.admin)
    body = client.get("/api/households/", {"page_size": 3}).json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 8
    assert body["previous"] is None
    assert len(body["features"]) == 3
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    assert len(feature["geometry"]["coordinates"]) == 2
    assert feature["properties"]["grid_code"] == tree.grids[(1, 1, 1)].code
    assert feature["properties"]["address"] == homes[(1, 1, 1)].address
    assert feature["properties"]["flagged"] is False

    seen = [f["id"] for f in body["features"]]
    pages = 1
    while body["next"]:
        query = parse_qs(urlparse(body["next"]).query)
        assert query["page_size"] == ["3"]
        body = client.get(body["next"]).json()
        assert body["count"] == 8
        assert body["previous"]
        seen += [f["id"] for f in body["features"]]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(h.pk for h in homes.values())
    assert len(seen) == len(set(seen))

    grids = client.get("/api/grids/", {"page_size": 2}).json()
    assert grids["type"] == "FeatureCollection"
    assert grids["count"] == 8
    assert len(grids["features"]) == 2
    assert grids["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert "page=2" in grids["next"]


def test_page_size_is_capped(homes, users, api):
    body = api(users.admin).get("/api/households/", {"page_size": 100000}).json()
    assert len(body["features"]) == 8


@pytest.fixture
def populated(tree, homes, add_household):
    """Residents: 2 in (1,1,1) (one elderly), 1 elderly in (1,2,2), 3 in (2,1,1), and a
    second household with 1 resident in (1,1,1)."""
    household_service.add_residents(
        homes[(1, 1, 1)], [resident(tags=["elderly"]), resident(name="李四", sex="F")]
    )
    household_service.add_residents(homes[(1, 2, 2)], [resident(tags=["elderly"])])
    household_service.add_residents(homes[(2, 1, 1)], [resident(), resident(), resident()])
    extra = add_household(centre_of(tree.grids[(1, 1, 1)]), address="第二户")
    household_service.add_residents(extra, [resident()])
    return homes


GRID_FIGURES = {  # (households, residents)
    **{(s, c, g): (1, 0) for s in (1, 2) for c in (1, 2) for g in (1, 2)},
    (1, 1, 1): (2, 3),
    (1, 2, 2): (1, 1),
    (2, 1, 1): (1, 3),
}


def test_grid_list_counts(tree, populated, users, api):
    client = api(users.admin)
    features = client.get("/api/grids/").json()["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    for key, (households, residents) in GRID_FIGURES.items():
        properties = by_code[tree.grids[key].code]
        assert (properties["households"], properties["residents"]) == (households, residents)
    detail = client.get(f"/api/grids/{tree.grids[(1, 1, 1)].pk}/").json()
    assert (detail["properties"]["households"], detail["properties"]["residents"]) == (2, 3)


def test_grid_counts_for_homes_fixture(tree, homes, users, api):
    features = api(users.admin).get("/api/grids/").json()["features"]
    assert len(features) == len(homes)
    for feature in features:
        assert feature["properties"]["households"] == 1
        assert feature["properties"]["residents"] == 0


# ---------------------------------------------------------------- writing households


def test_post_with_client_key_is_idempotent(tree, users, api):
    client = api(users.worker)
    payload = {
        "address": "重庆市永川区幂等路1号",
        "location": point_json(centre_of(tree.grids[(1, 1, 1)])),
        "client_key": "phone-42-0001",
    }
    first = client.post("/api/households/", payload, format="json")
    assert first.status_code == 201, first.content
    second = client.post("/api/households/", payload, format="json")
    assert second.status_code == 200, second.content
    assert first.json()["id"] == second.json()["id"]
    assert Household.objects.filter(client_key="phone-42-0001").count() == 1
    assert Household.objects.count() == 1
    household = Household.objects.get()
    assert household.grid == tree.grids[(1, 1, 1)]
    assert first.json()["properties"]["grid_code"] == tree.grids[(1, 1, 1)].code


def test_post_without_client_key_makes_two(tree, users, api):
    client = api(users.worker)
    payload = {"address": "x", "location": point_json(centre_of(tree.grids[(1, 1, 1)]))}
    assert client.post("/api/households/", payload, format="json").status_code == 201
    assert client.post("/api/households/", payload, format="json").status_code == 201
    assert Household.objects.count() == 2


def test_post_in_gcj02_stores_wgs84(tree, users, api):
    wgs = centre_of(tree.grids[(1, 1, 1)])
    gx, gy = (float(v) for v in wgs84_to_gcj02(wgs.x, wgs.y))
    assert abs(gx - wgs.x) > 1e-4 or abs(gy - wgs.y) > 1e-4  # the offset is real
    response = api(users.worker).post(
        "/api/households/",
        {
            "address": "高德坐标路1号",
            "location": {"type": "Point", "coordinates": [gx, gy]},
            "crs": "GCJ-02",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    household = Household.objects.get(pk=response.json()["id"])
    assert household.location.srid == 4326
    assert household.location.x == pytest.approx(wgs.x, abs=1e-6)
    assert household.location.y == pytest.approx(wgs.y, abs=1e-6)
    assert household.grid == tree.grids[(1, 1, 1)]
    x, y = response.json()["geometry"]["coordinates"]
    assert (x, y) == (pytest.approx(wgs.x, abs=1e-6), pytest.approx(wgs.y, abs=1e-6))


def test_post_with_lon_lat(tree, users, api):
    where = centre_of(tree.grids[(1, 1, 2)])
    response = api(users.community).post(
        "/api/households/", {"address": "x", "lon": where.x, "lat": where.y}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Household.objects.get().grid == tree.grids[(1, 1, 2)]


def test_admin_post_in_no_grid_is_kept_and_flagged(tree, users, api):
    response = api(users.admin).post(
        "/api/households/",
        {"address": "界外", "location": point_json(Point(106.05, 29.35, srid=4326))},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["properties"]["flagged"] is True
    assert Household.objects.get().grid is None


def test_patch_moving_household_rekeys_it(tree, homes, users, api):
    household = homes[(1, 1, 1)]
    target = centre_of(tree.grids[(1, 1, 2)])
    response = api(users.community).patch(
        f"/api/households/{household.pk}/", {"location": point_json(target)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["properties"]["grid_code"] == tree.grids[(1, 1, 2)].code
    household.refresh_from_db()
    assert household.grid == tree.grids[(1, 1, 2)]
    assert household.location.x == pytest.approx(target.x)
    # the worker of (1,1,1) no longer sees it; the worker's grid lost it
    assert api(users.worker).get(f"/api/households/{household.pk}/").status_code == 404


def test_patch_address_only(homes, users, api):
    household = homes[(1, 1, 1)]
    response = api(users.worker).patch(
        f"/api/households/{household.pk}/", {"address": "新地址"}, format="json"
    )
    assert response.status_code == 200, response.content
    household.refresh_from_db()
    assert household.address == "新地址"
    assert household.grid_id == homes[(1, 1, 1)].grid_id


def test_patch_moving_out_of_jurisdiction_is_refused_and_changes_nothing(tree, homes, users, api):
    household = homes[(1, 1, 1)]
    before = (household.address, household.location.coords, household.grid_id)
    response = api(users.worker).patch(
        f"/api/households/{household.pk}/",
        {"address": "搬走了", "location": point_json(centre_of(tree.grids[(1, 1, 2)]))},
        format="json",
    )
    [error] = errors(response, 400)
    assert error["code"] == "outside_jurisdiction"
    household.refresh_from_db()
    assert (household.address, household.location.coords, household.grid_id) == before


@pytest.mark.parametrize("role", ["district", "department"])
def test_centres_and_departments_cannot_write_households(tree, homes, users, api, role):
    client = api(getattr(users, role))
    response = client.post(
        "/api/households/",
        {"address": "x", "location": point_json(centre_of(tree.grids[(1, 1, 1)]))},
        format="json",
    )
    [error] = errors(response, 403)
    assert error["code"] == "permission_denied"
    response = client.patch(
        f"/api/households/{homes[(1, 1, 1)].pk}/", {"address": "x"}, format="json"
    )
    assert response.status_code in (403, 404)
    assert Household.objects.count() == len(homes)
    assert not Household.objects.filter(address="x").exists()


# ---------------------------------------------------------------- token auth


def test_token_auth(homes, users):
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "worker", "password": "pw-worker"}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token

    client = APIClient()
    response = client.get("/api/households/", HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(response) == [homes[(1, 1, 1)].pk]
    me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert me["username"] == "worker"
    assert me["jurisdiction"]["kind"] == "grid"

    # Tokens are several per user now (issue #15): a second login issues a second token, and
    # both work until they expire or are revoked.
    again = APIClient().post(
        "/api/auth/token/", {"username": "worker", "password": "pw-worker"}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["token"] != token
    for secret in (token, again.json()["token"]):
        me = APIClient().get("/api/me/", HTTP_AUTHORIZATION=f"Token {secret}")
        assert me.status_code == 200


def test_token_auth_refusals(users):
    response = APIClient().post(
        "/api/auth/token/", {"username": "worker", "password": "wrong"}, format="json"
    )
    errors(response, 400)
    response = APIClient().get("/api/households/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code in (401, 403)
    errors(response, response.status_code)


# ---------------------------------------------------------------- OpenAPI and docs


def test_openapi_schema(db, api):
    response = api().get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3")
    document = api().get("/api/schema/", {"format": "json"}).json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/households/",
        "/api/grids/",
        "/api/regions/",
        "/api/stats/rollup/",
        "/api/incidents/",
        "/api/incidents/{id}/steps/",
        "/api/tasks/",
        "/api/visits/",
        "/api/notifications/",
    ):
        assert path in document["paths"], path


def test_openapi_schema_has_no_warnings(db):
    """Every field of every endpoint is described (a phone app is generated from it)."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


class AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_no_redoc_page_because_its_template_loads_remote_fonts(db, api):
    assert api().get("/api/redoc/").status_code == 404


@pytest.mark.parametrize("url", ["/api/docs/"])
def test_docs_use_only_local_assets(db, api, url):
    response = api().get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    parser = AssetParser()
    parser.feed(response.content.decode())
    assert parser.urls, "no script or stylesheet found"
    for asset in parser.urls:
        if asset == f"{url}?script=":
            # Swagger's set-up script, served by the split view itself (no inline script: CSP).
            continue
        assert asset.startswith("/static/"), asset
        assert "http://" not in asset and "https://" not in asset and "//" not in asset
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset


# ---------------------------------------------------------------- roll-ups


def rollup(client, level: str) -> dict[str, tuple]:
    response = client.get("/api/stats/rollup/", {"level": level})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["level"] == level
    return {
        row["code"]: (row["households"], row["residents"], row["tags"].get("elderly", 0))
        for row in body["results"]
    }


def test_rollup_sums(tree, populated, users, api):
    client = api(users.admin)
    grids = rollup(client, "grid")
    assert {code: figures[:2] for code, figures in grids.items()} == {
        tree.grids[key].code: figures for key, figures in GRID_FIGURES.items()
    }
    assert grids[tree.grids[(1, 1, 1)].code][2] == 1
    assert rollup(client, "community") == {
        tree.communities[(1, 1)].code: (3, 3, 1),
        tree.communities[(1, 2)].code: (2, 1, 1),
        tree.communities[(2, 1)].code: (2, 3, 0),
        tree.communities[(2, 2)].code: (2, 0, 0),
    }
    assert rollup(client, "street") == {
        tree.streets[1].code: (5, 4, 2),
        tree.streets[2].code: (4, 3, 0),
    }
    assert rollup(client, "district") == {tree.district.code: (9, 7, 2)}


def test_rollup_is_scoped(tree, populated, users, api):
    street = api(users.street)
    assert rollup(street, "street") == {tree.streets[1].code: (5, 4, 2)}
    assert rollup(street, "community") == {
        tree.communities[(1, 1)].code: (3, 3, 1),
        tree.communities[(1, 2)].code: (2, 1, 1),
    }
    assert set(rollup(street, "grid")) == {
        tree.grids[key].code for key in GRID_FIGURES if key[0] == 1
    }
    assert rollup(street, "district") == {}

    community = api(users.community)
    assert rollup(community, "community") == {tree.communities[(1, 1)].code: (3, 3, 1)}
    assert rollup(community, "street") == {}

    worker = api(users.worker)
    assert {k: v[:2] for k, v in rollup(worker, "grid").items()} == {
        tree.grids[(1, 1, 1)].code: (2, 3)
    }


# ---------------------------------------------------------------- query counts


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/grids/", 4),  # count, page with boundaries, workers, figures
        ("/api/regions/", 2),  # count, page with boundaries and parents
        ("/api/households/", 2),  # count, page with grids
    ],
)
def test_list_queries_do_not_grow(
    tree, homes, users, api, add_household, django_assert_num_queries, url, queries
):
    client = api(users.admin)
    with django_assert_num_queries(queries):
        first = client.get(url)
    assert first.status_code == 200

    leader = users.community
    for key, grid in tree.grids.items():
        for n in range(3):
            extra = add_household(centre_of(grid), address=f"加{key}{n}")
            household_service.add_residents(extra, [resident()])
        grid.leader = leader
        grid.save(update_fields=["leader"])
        grid.workers.add(users.worker, users.other_worker)
    with django_assert_num_queries(queries):
        second = client.get(url)
    assert second.status_code == 200
    if url == "/api/households/":
        assert second.json()["count"] == first.json()["count"] + 3 * len(tree.grids)


def test_scoped_list_queries_do_not_grow(
    tree, homes, users, api, add_household, django_assert_num_queries
):
    client = api(users.street)
    for url, queries in (("/api/grids/", 4), ("/api/regions/", 2), ("/api/households/", 2)):
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200
