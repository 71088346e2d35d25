"""OGC API - Features Part 1 core at /ogc/ (issue #19): landing, conformance, collections,
items and item as JSON; paging by keyset `next` links; bbox; datetime; limit; unknown
parameters; authentication (HTTP Basic by policy, tokens, sessions); query counts; no 500 on
nasty input. Real PostGIS with the small tree of conftest and D's collections."""

from __future__ import annotations

import base64
import dataclasses
from urllib.parse import parse_qs, urlparse

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from grids.services import tokens
from ogc import auth, registry
from ogc.conformance import PART1
from tests.conftest import X0, X1, Y0, Y1

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(autouse=True)
def forget_basic():
    auth.forget_all()
    yield
    auth.forget_all()


def ogc_errors(response, status: int) -> list[dict]:
    """The OGC error body: code, description, status and the API's errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] and body["description"]
    assert body["errors"] and all(e["code"] and e["message"] for e in body["errors"])
    return body["errors"]


def refused_field(response, status: int = 400) -> str:
    return ogc_errors(response, status)[0].get("field")


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def follow(c, url: str) -> tuple[list, list[dict]]:
    """Every page from `url` by its next links: the features and the pages."""
    features, pages = [], []
    while url:
        response = c.get(url)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/geo+json")
        page = response.json()
        pages.append(page)
        assert page["numberReturned"] == len(page["features"])
        features += page["features"]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
        assert len(pages) < 100
    return features, pages


# --- landing, conformance, collections -------------------------------------------------------


def test_landing_page_links(users):
    response = client_for(users.street).get("/ogc/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    rels = {x["rel"]: x for x in response.json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert rels["describedby"]["href"].endswith("/api/schema/?format=json")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert rels["alternate"]["type"] == "text/html"


def test_conformance_declares_part1(users):
    classes = client_for(users.street).get("/ogc/conformance").json()["conformsTo"]
    for name in ("core", "geojson", "oas30", "html"):
        assert PART1 + name in classes


def test_collections_as_the_role_may_see_them(users):
    listed = client_for(users.worker).get("/ogc/collections").json()
    ids = {c["id"] for c in listed["collections"]}
    assert {"grids", "households"} <= ids
    department = client_for(users.department).get("/ogc/collections").json()
    assert "households" not in {c["id"] for c in department["collections"]}
    response = client_for(users.department).get("/ogc/collections/households")
    assert refused_field(response, 404) == "collectionId"


def test_collection_document(users):
    response = client_for(users.street).get("/ogc/collections/grids")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "grids"
    assert body["itemType"] == "feature"
    assert body["crs"][0] == CRS84
    assert body["storageCrs"] == CRS84
    rels = {(x["rel"], x["type"]) for x in body["links"]}
    assert ("items", "application/geo+json") in rels
    assert ("items", "text/html") in rels
    assert ("self", "application/json") in rels
    assert any(rel.endswith("/queryables") for rel, _t in rels)
    # Street 1 is the west half of the district.
    (box,) = body["extent"]["spatial"]["bbox"]
    assert box == pytest.approx([X0, Y0, (X0 + X1) / 2, Y1])
    # GDAL appends "/<id>" to the GeoJSON items link for one feature: it has no query.
    items = next(
        x["href"]
        for x in body["links"]
        if (x["rel"], x["type"]) == ("items", "application/geo+json")
    )
    assert "?" not in items
    one = client_for(users.street).get(
        f"{items}/500118001001001",
        HTTP_ACCEPT="application/geo+json, application/json",
    )
    assert one.status_code == 200 and one.json()["id"] == "500118001001001"
    assert body["extent"]["temporal"]["interval"][0][0].startswith("2024-01-01")


def test_spatial_extent_is_the_jurisdiction(users, tree):
    """The extent tells a grid worker their grid, not the district's outline."""

    def box(user):
        body = client_for(user).get("/ogc/collections/households").json()
        return body.get("extent", {}).get("spatial", {}).get("bbox", [None])[0]

    assert box(users.worker) == pytest.approx(list(tree.grids[(1, 1, 1)].boundary_on().extent))
    assert box(users.community) == pytest.approx(
        list(tree.communities[(1, 1)].boundary_on().extent)
    )
    assert box(users.admin) == pytest.approx([X0, Y0, X1, Y1])
    department = client_for(users.department).get("/ogc/collections/grids").json()
    assert department["extent"]["spatial"]["bbox"][0] == pytest.approx([X0, Y0, X1, Y1])


def test_no_district_no_zones(users):
    """Only those who see everything are offered every district's Gauss-Krüger zones; a user
    without a district (the database forbids it, the code does not rely on that) gets the
    geographic CRSs only."""
    from grids.models import Role, User
    from ogc import crs
    from ogc.views import base

    lost = User(username="lost", role=Role.DEPARTMENT)
    assert base.crs_district(lost) == base.NO_DISTRICT
    assert len(crs.supported(base.crs_district(lost))) == 3
    assert base.crs_district(users.admin) is None


# --- items ---------------------------------------------------------------------------------------


def test_items_geojson_and_headers(users, homes):
    response = client_for(users.street).get("/ogc/collections/households/items")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert response["Content-Crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    # Street 1 sees its four grids' households; households are large: no numberMatched.
    assert body["numberReturned"] == 4
    assert "numberMatched" not in body
    assert body["timeStamp"].endswith("Z")
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert isinstance(feature["id"], int)
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert X0 < lon < X1 and Y0 < lat < Y1
    assert "address" in feature["properties"]
    ids = [f["id"] for f in body["features"]]
    assert ids == sorted(ids)


def test_paging_covers_every_feature_once(users, homes):
    features, pages = follow(client_for(users.admin), "/ogc/collections/households/items?limit=3")
    ids = [f["id"] for f in features]
    assert sorted(ids) == sorted(h.pk for h in homes.values())
    assert len(ids) == len(set(ids)) == 8
    assert [p["numberReturned"] for p in pages] == [3, 3, 2]
    # The last page has no next link, the others carry the keyset and the limit.
    assert not any(x["rel"] == "next" for x in pages[-1]["links"])
    first_next = next(x["href"] for x in pages[0]["links"] if x["rel"] == "next")
    query = parse_qs(urlparse(first_next).query)
    assert query["limit"] == ["3"] and query["after"] == [str(ids[2])]


def test_paging_string_ids_and_number_matched(users):
    features, pages = follow(client_for(users.admin), "/ogc/collections/grids/items?limit=5")
    codes = [f["id"] for f in features]
    assert codes == sorted(codes) and len(set(codes)) == 8
    assert all(isinstance(code, str) for code in codes)
    assert all(p["numberMatched"] == 8 for p in pages)


def test_exact_page_has_no_empty_next(users, homes):
    features, pages = follow(client_for(users.admin), "/ogc/collections/households/items?limit=4")
    assert len(features) == 8 and len(pages) == 2


def test_bbox(users, tree, homes):
    grid = tree.grids[(1, 1, 1)]
    x0, y0, x1, y1 = grid.boundary_on().extent
    url = f"/ogc/collections/households/items?bbox={x0},{y0},{x1},{y1}"
    body = client_for(users.admin).get(url).json()
    assert [f["id"] for f in body["features"]] == [homes[(1, 1, 1)].pk]
    six = f"/ogc/collections/households/items?bbox={x0},{y0},0,{x1},{y1},10"
    assert client_for(users.admin).get(six).json()["numberReturned"] == 1
    # EPSG:4326 is latitude first.
    flipped = (
        f"/ogc/collections/households/items?bbox={y0},{x0},{y1},{x1}"
        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    )
    assert [f["id"] for f in client_for(users.admin).get(flipped).json()["features"]] == [
        homes[(1, 1, 1)].pk
    ]


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,0,1,1", "inf,0,1,1", "0,0,1,1e400", "1,1,0,0", ""],
)
def test_bad_bbox(users, bbox):
    response = client_for(users.admin).get(f"/ogc/collections/grids/items?bbox={bbox}")
    assert refused_field(response) == "bbox"


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01",
        "2024-02-30T00:00:00Z",
        "2024-02-01/2024-01-01",
        "2024-01-01/2024-02-01/2024-03-01",
        "1800-01-01",
        "..",
        "../1990-01-01",
        "2024-01-01T25:00:00Z",
    ],
)
def test_bad_datetime(users, value):
    response = client_for(users.admin).get("/ogc/collections/grids/items", {"datetime": value})
    assert refused_field(response) == "datetime"


@pytest.mark.parametrize(
    "value",
    [
        "2024-06-01",
        "2024-06-01T08:00:00Z",
        "2024-06-01T08:00:00+08:00",
        "2024-01-01/..",
        "../2025-01-01T00:00:00Z",
        "/2025-01-01",
        "2024-01-01/",
        "1900-01-01/2300-01-01",
    ],
)
def test_datetime_forms(users, value):
    response = client_for(users.admin).get("/ogc/collections/grids/items", {"datetime": value})
    assert response.status_code == 200, response.content
    assert response.json()["numberMatched"] == 8


def test_datetime_ignored_without_time(users, monkeypatch):
    """Part 1: a collection without time ignores a (valid) datetime."""
    grids = registry.get("grids", users.admin)
    timeless = dataclasses.replace(grids, id="grids-timeless", temporal=None, history=None)
    monkeypatch.setitem(registry._collections, timeless.id, timeless)
    body = (
        client_for(users.admin)
        .get("/ogc/collections/grids-timeless/items", {"datetime": "2000-06-01"})
        .json()
    )
    assert body["numberMatched"] == 8
    response = client_for(users.admin).get(
        "/ogc/collections/grids-timeless/items", {"datetime": "yesterday"}
    )
    assert refused_field(response) == "datetime"


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", "²", "0x10"])
def test_bad_limit(users, value):
    response = client_for(users.admin).get("/ogc/collections/grids/items", {"limit": value})
    assert refused_field(response) == "limit"


def test_limit_is_clamped(users, settings):
    settings.GRIDLINE_OGC_MAX_LIMIT = 3
    for value in ("4", "10" * 40):
        body = client_for(users.admin).get("/ogc/collections/grids/items", {"limit": value}).json()
        assert body["numberReturned"] == 3


def test_unknown_parameter(users):
    response = client_for(users.admin).get("/ogc/collections/grids/items?colour=red&bogus=1")
    assert refused_field(response) == "bogus"
    response = client_for(users.admin).get("/ogc/collections?limit=1")
    assert refused_field(response) == "limit"


def test_repeated_parameter(users):
    response = client_for(users.admin).get("/ogc/collections/grids/items?limit=1&limit=2")
    assert refused_field(response) == "limit"


def test_bad_after(users):
    response = client_for(users.admin).get("/ogc/collections/households/items?after=abc")
    assert refused_field(response) == "after"


def test_queryable_as_parameter(users, tree):
    code = tree.grids[(1, 1, 1)].code
    body = client_for(users.admin).get(f"/ogc/collections/grids/items?code={code}").json()
    assert [f["id"] for f in body["features"]] == [code]


# --- item ----------------------------------------------------------------------------------------


def test_item(users, homes):
    home = homes[(1, 1, 1)]
    response = client_for(users.worker).get(f"/ogc/collections/households/items/{home.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert response["Content-Crs"] == f"<{CRS84}>"
    feature = response.json()
    assert feature["id"] == home.pk and feature["type"] == "Feature"
    rels = {x["rel"] for x in feature["links"]}
    assert {"self", "alternate", "collection"} <= rels
    assert response.has_header("ETag")


def test_item_string_id(users, tree):
    code = tree.grids[(1, 1, 1)].code
    feature = client_for(users.worker).get(f"/ogc/collections/grids/items/{code}").json()
    assert feature["id"] == code
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_item_not_found_is_json(users, homes):
    c = client_for(users.worker)
    other = homes[(2, 2, 2)]
    # Outside the worker's grid, unknown, not a number, unknown collection: all 404 JSON.
    for url in (
        f"/ogc/collections/households/items/{other.pk}",
        "/ogc/collections/households/items/999999999",
        "/ogc/collections/households/items/abc",
        "/ogc/collections/households/items/1e5",
        "/ogc/collections/nothing/items/1",
        "/ogc/collections/grids/items/nothing",
    ):
        ogc_errors(c.get(url), 404)


def test_unknown_path_under_ogc_is_json(users):
    response = client_for(users.worker).get("/ogc/nowhere")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_item_304(users, homes):
    home = homes[(1, 1, 1)]
    c = client_for(users.worker)
    etag = c.get(f"/ogc/collections/households/items/{home.pk}")["ETag"]
    response = c.get(f"/ogc/collections/households/items/{home.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


# --- authentication ------------------------------------------------------------------------------


def test_no_credentials_is_401_with_basic_challenge(users):
    for url in ("/ogc/", "/ogc/collections", "/ogc/collections/grids/items"):
        response = Client().get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Basic realm="Gridline"'
        ogc_errors(response, 401)


@pytest.mark.parametrize(
    ("policy", "secure", "status"),
    [
        ("tls", False, 401),
        ("tls", True, 200),
        ("any", False, 200),
        ("off", True, 401),
    ],
)
def test_basic_by_policy(users, settings, policy, secure, status):
    settings.GRIDLINE_OGC_BASIC_AUTH = policy
    response = Client().get(
        "/ogc/collections",
        HTTP_AUTHORIZATION=basic("street", "pw-street"),
        secure=secure,
    )
    assert response.status_code == status, response.content
    if policy == "tls" and not secure:
        message = ogc_errors(response, 401)[0]["message"]
        assert "HTTPS" in message and "Token" in message


def test_basic_wrong_password_is_counted(users, settings):
    settings.GRIDLINE_OGC_BASIC_AUTH = "any"
    response = Client().get("/ogc/", HTTP_AUTHORIZATION=basic("street", "wrong"))
    ogc_errors(response, 401)
    assert AccessAttempt.objects.filter(username="street").exists()


def test_basic_lockout(users, settings):
    settings.GRIDLINE_OGC_BASIC_AUTH = "any"
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().get("/ogc/", HTTP_AUTHORIZATION=basic("street", "wrong"))
    response = Client().get("/ogc/", HTTP_AUTHORIZATION=basic("street", "pw-street"))
    assert response.status_code == 429
    assert response.has_header("Retry-After")
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "locked_out"


@pytest.mark.parametrize(
    "header",
    ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "Basic a b"],
)
def test_basic_malformed(users, settings, header):
    settings.GRIDLINE_OGC_BASIC_AUTH = "any"
    ogc_errors(Client().get("/ogc/", HTTP_AUTHORIZATION=header), 401)


def test_basic_remembered_until_password_changes(users, settings):
    settings.GRIDLINE_OGC_BASIC_AUTH = "any"
    header = basic("street", "pw-street")
    assert Client().get("/ogc/", HTTP_AUTHORIZATION=header).status_code == 200
    assert Client().get("/ogc/", HTTP_AUTHORIZATION=header).status_code == 200
    users.street.set_password("new-password")
    users.street.save()
    assert Client().get("/ogc/", HTTP_AUTHORIZATION=header).status_code == 401


def test_token(users, homes):
    _token, secret = tokens.issue(users.worker, "qgis")
    response = Client().get(
        "/ogc/collections/households/items", HTTP_AUTHORIZATION=f"Token {secret}"
    )
    assert response.status_code == 200
    assert response.json()["numberReturned"] == 1
    bad = Client().get("/ogc/collections", HTTP_AUTHORIZATION="Token gl_nope")
    assert bad.status_code == 401


def test_session(users):
    c = Client()
    c.force_login(users.street)
    assert c.get("/ogc/collections").status_code == 200


# --- query counts --------------------------------------------------------------------------------


def test_items_query_count(users, homes, django_assert_max_num_queries):
    c = client_for(users.admin)
    c.get("/ogc/collections/grids/items")  # warm the caches (CRS list, extents)
    # The page (and numberMatched for a small collection), the sensor types of the family.
    with django_assert_max_num_queries(4):
        assert c.get("/ogc/collections/grids/items?limit=3").status_code == 200
    with django_assert_max_num_queries(4):
        assert c.get("/ogc/collections/households/items?limit=100").status_code == 200
    with django_assert_max_num_queries(4):
        assert c.get(f"/ogc/collections/households/items/{homes[(1, 1, 1)].pk}").status_code == 200


# --- nasty input ---------------------------------------------------------------------------------

NASTY = [
    "limit=99999999999999999999999999999999999999",
    "limit=-0",
    "bbox=1e308,1e308,-1e308,-1e308",
    "bbox=-180,-90,180,90",
    "bbox=179,0,-179,1",
    "bbox=0,0,0,0",
    "bbox=%2C%2C%2C",
    "bbox-crs=EPSG:99999",
    "bbox-crs=" + "x" * 5000,
    "crs=http://www.opengis.net/def/crs/EPSG/0/4547",
    "crs=http://www.opengis.net/def/crs/EPSG/0/999999",
    "datetime=9999-12-31T23:59:59Z",
    "datetime=0001-01-01T00:00:00-23:59",
    "datetime=2024-01-01T00:00:00+23:59/..",
    "after=" + "9" * 40,
    "after=%E2%80%AE",
    "f=xml",
    "f=",
    "filter-lang=sql",
    "code=%F0%9F%98%80",
    "version=99999999999999999999",
    "valid_from=2024-99-01",
    "%FF=1",
]


@pytest.mark.parametrize("query", NASTY)
def test_no_server_error(users, homes, query):
    for collection in ("grids", "households", "grid-versions", "streets", "incidents"):
        response = client_for(users.admin).get(f"/ogc/collections/{collection}/items?{query}")
        assert response.status_code < 500, (collection, query, response.content)
        if response.status_code >= 400:
            ogc_errors(response, response.status_code)


def test_nul_is_refused(users):
    response = client_for(users.admin).get("/ogc/collections/grids/items?code=a%00b")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
