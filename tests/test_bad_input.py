"""Bad input is a 4xx in the API's JSON error format, never a 500 (issue #15, section 2): the
request limits (nesting, body size, NUL characters), JSON 404s, GeoJSON Features sent as a
form, and the one range check of every point."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from grids.models import Household
from incidents.models import Incident, Visit
from sensors.models import Broadcast, Sensor
from tests.conftest import centre_of

CAMERA = {"bearing": 90, "fov": 60, "range": 200}


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int) -> str:
    return "[" * depth + "]" * depth


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    (found,) = body["errors"]
    return found


def incident_body(point) -> dict:
    return {
        "title": "井盖缺失",
        "category": "T0101",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
    }


# --- JSON nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/incidents/", "/api/reports/ledger/", "/api/sensors/fire-response/"]
)
def test_json_nested_a_thousand_deep_is_400_too_deep(users, api, url):
    response = api(users.admin).generic(
        "POST", url, '{"values": ' + deep_text(1000) + "}", content_type="application/json"
    )
    found = error(response, 400)
    assert found["code"] == "too_deep"
    assert "32" in found["message"]


def test_deep_sensor_properties_are_refused_and_nothing_written(users, tree, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    body = json.dumps({"code": "DEEP", "type": "camera", "lon": point.x, "lat": point.y})
    properties = json.dumps(CAMERA)[:-1] + ', "note": ' + deep_text(1000) + "}"
    response = api(users.district).generic(
        "POST",
        "/api/sensors/sensors/",
        body[:-1] + ', "properties": ' + properties + "}",
        content_type="application/json",
    )
    assert error(response, 400)["code"] == "too_deep"
    assert not Sensor.objects.exists()


def test_nesting_within_the_limit_reaches_the_view(users, api, settings):
    settings.GRIDLINE_JSON_MAX_DEPTH = 5
    client = api(users.admin)
    # 4 levels of lists inside the object: 5 in all, the view answers (a 400 of its own).
    ok = client.post("/api/incidents/", {"title": nested(4)}, format="json")
    assert ok.status_code == 400 and ok.json()["errors"][0]["field"] == "title"
    too_deep = client.post("/api/incidents/", {"title": nested(5)}, format="json")
    assert error(too_deep, 400)["code"] == "too_deep"


@pytest.mark.parametrize(
    "text,refused",
    [
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ("{[" * 16 + "]}" * 16, False),
        ('{"a": [' * 16 + "{}" + "]}" * 16, True),
        ("[[]," * 31 + "[" + "]" * 32, False),
        ("[" * 40, True),
        ('["]]]]]", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', False),
    ],
)
def test_depth_is_counted_exactly(text, refused):
    from grids import limits

    try:
        limits.check_json_depth(text)
    except limits.InputRefused:
        assert refused
    else:
        assert not refused


def test_brackets_inside_strings_do_not_count(users, api, settings):
    settings.GRIDLINE_JSON_MAX_DEPTH = 3
    response = api(users.admin).post(
        "/api/incidents/", {"title": "[[[[[{{{{" * 20, "description": "]]]"}, format="json"
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"category", "location"}


def test_json_inside_a_text_field_is_limited_too(users, tree, api):
    client = api(users.worker)
    draft = client.post(
        "/api/boundaries/changesets/",
        {"region": tree.communities[(1, 1)].code, "title": "深层"},
        format="json",
    )
    assert draft.status_code == 201, draft.content
    response = client.post(
        f"/api/boundaries/changesets/{draft.json()['id']}/operations/",
        {
            "op": "reshape",
            "code": tree.grids[(1, 1, 1)].code,
            "geometry": '{"type": "Polygon", "coordinates": ' + deep_text(5000) + "}",
        },
        format="json",
    )
    found = error(response, 400)
    assert found["field"] == "geometry" and "32" in found["message"]


def test_ingest_keeps_its_row_by_row_rule_under_the_limits(tree):
    from rest_framework.test import APIClient

    from sensors.models import Gateway
    from sensors.services.registry import issue_token

    gateway = Gateway.objects.create(code="hub-1", name="IoT hub", district=tree.district)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(gateway)}")
    deep = client.generic(
        "POST",
        "/api/sensors/ingest/",
        '{"readings": ' + deep_text(1000) + "}",
        content_type="application/json",
    )
    assert error(deep, 400)["code"] == "too_deep"
    # A row with a lone surrogate is refused like any bad row, never a 500.
    lone = client.generic(
        "POST",
        "/api/sensors/ingest/",
        '{"readings": [{"sensor": "x", "at": "2026-01-01T00:00:00Z", "values": {"s": "\\ud800"}}]}',
        content_type="application/json",
    )
    assert lone.status_code == 400 and lone["Content-Type"] == "application/json"


def test_load_json_names_the_reason():
    from grids import limits

    with pytest.raises(ValueError, match="32"):
        limits.load_json(deep_text(100_000))
    with pytest.raises(ValueError, match="NUL"):
        limits.load_json('{"a": "\\u0000"}')
    assert limits.load_json('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == {"a": "[" * 34}


# --- body size ---------------------------------------------------------------------------------


def test_a_50_mb_body_is_413_with_the_limit(users, api):
    body = b'{"title": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    response = api(users.admin).generic(
        "POST", "/api/incidents/", body, content_type="application/json"
    )
    found = error(response, 413)
    assert found["code"] == "too_large"
    assert found["limit"] == 10 * 1024 * 1024
    assert "10 MB" in found["message"]
    assert not Incident.objects.exists()


def test_uploads_may_be_larger_than_other_bodies(users, api, settings):
    settings.GRIDLINE_BODY_MAX_MB = 0.01
    settings.GRIDLINE_UPLOAD_MAX_MB = 0.05
    client = api(users.admin)
    photo = b"x" * 20_000
    form = client.post(
        "/api/incidents/", {"title": "x", "photos": [_upload(photo)]}, format="multipart"
    )
    assert form.status_code == 400  # past the limits: the view's own refusal
    assert form.json()["errors"][0]["code"] != "too_large"
    big = client.post(
        "/api/incidents/", {"title": "x", "photos": [_upload(photo * 3)]}, format="multipart"
    )
    assert error(big, 413)["limit"] == int(0.05 * 1024 * 1024)
    json_body = client.post("/api/incidents/", {"title": "x" * 20_000}, format="json")
    assert error(json_body, 413)["limit"] == int(0.01 * 1024 * 1024)


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")


def test_djangos_own_limit_on_form_fields_is_413_json(users, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(users.admin).post(
        "/api/households/", {"address": "x" * 5000, "lon": 1, "lat": 1}, format="multipart"
    )
    found = error(response, 413)
    assert found["limit"] == 1000


def test_a_page_answers_413_with_a_short_chinese_page(users, settings):
    settings.GRIDLINE_BODY_MAX_MB = 0.001
    client = Client()
    client.force_login(users.worker)
    response = client.post(
        "/incidents/new/", "title=" + "x" * 5000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "请求内容超过上限 1048 B" in text


# --- NUL characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,field",
    [
        ("/api/residents/?grid=a%00b", "grid"),
        ("/api/residents/?tag=%00", "tag"),
        ("/api/reports/ledger/?unit=%00&period=2025-01", "unit"),
        ("/api/incidents/nearby/?category=%00&lon=105.91&lat=29.31", "category"),
        ("/api/map/search/?q=ab%00", "q"),
        ("/api/households/?bbox=1,2,3,4&x%00=1", "x\x00"),
        ("/api/boundaries/grids/500118001001001%00/history/", "code"),
        ("/api/reports/indicators/a%00/", "code"),
        ("/api/incident-categories/T01%00/", "code"),
        ("/api/departments/civil%00/", "code"),
    ],
)
def test_nul_in_a_query_parameter_or_path_part_is_400_naming_it(users, url, field):
    client = Client()
    client.force_login(users.admin)
    found = error(client.get(url), 400)
    assert (found["code"], found["field"]) == ("invalid_character", field)


def test_nul_on_a_page_is_a_short_page(users):
    client = Client()
    client.force_login(users.admin)
    response = client.get("/incidents/?q=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_nul_in_a_page_form_is_refused_before_the_view(users, tree):
    from boundaries.models import ChangeSet

    client = Client()
    client.force_login(users.community)
    response = client.post(
        "/boundaries/",
        {"region": tree.communities[(1, 1)].code, "title": "a\x00b", "valid_from": ""},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "title" in response.content.decode()
    assert not ChangeSet.objects.exists()


def test_nul_in_json_strings_names_the_field(users, tree, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    body = {"code": "NUL", "type": "camera", "lon": point.x, "lat": point.y}
    body["properties"] = CAMERA | {"notes": ["fine", "bad\u0000"]}
    response = api(users.district).post("/api/sensors/sensors/", body, format="json")
    found = error(response, 400)
    assert (found["code"], found["field"]) == ("invalid_character", "properties.notes.1")
    key = api(users.district).post(
        "/api/sensors/sensors/", body | {"properties": {"a\u0000": 1}}, format="json"
    )
    assert error(key, 400)["field"] == "properties.a\x00"
    assert not Sensor.objects.exists()


def test_an_unpaired_surrogate_is_refused_but_a_pair_is_text(users, tree, api, catalogue):
    point = centre_of(tree.grids[(1, 1, 1)])
    client = api(users.worker)
    raw = json.dumps(incident_body(point), ensure_ascii=False).replace('"井盖缺失"', '"\\ud83d"')
    lone = client.generic("POST", "/api/incidents/", raw, content_type="application/json")
    assert error(lone, 400)["field"] == "title"
    pair = raw.replace('"\\ud83d"', '"\\ud83d\\ude92"')
    created = client.generic("POST", "/api/incidents/", pair, content_type="application/json")
    assert created.status_code == 201, created.content
    assert Incident.objects.get().title == "\U0001f692"


@pytest.mark.parametrize("kind", ["multipart", "urlencoded"])
def test_nul_in_form_fields_names_the_field(users, tree, api, kind):
    point = centre_of(tree.grids[(1, 1, 1)])
    fields = {"address": "路\x00号", "lon": point.x, "lat": point.y}
    client = api(users.worker)
    if kind == "multipart":
        response = client.post("/api/households/", fields, format="multipart")
    else:
        from urllib.parse import urlencode

        response = client.generic(
            "POST",
            "/api/households/",
            urlencode(fields),
            content_type="application/x-www-form-urlencoded",
        )
    found = error(response, 400)
    assert (found["code"], found["field"]) == ("invalid_character", "address")
    assert not Household.objects.exists()


# --- 404s --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/reports/form-imports/abc/"),
        ("post", "/api/sensors/broadcasts/abc/retry/"),
        ("get", "/api/boundaries/changesets/abc/"),
        ("post", "/api/boundaries/changesets/abc/validate/"),
        ("get", "/api/incidents/abc/"),
        ("post", "/api/incidents/abc/step/"),
        ("post", "/api/incidents/abc/photos/"),
        ("get", "/api/households/1.5/"),
        ("get", "/api/no-such-thing/"),
        ("get", "/api/incidents/99999999999999999999999/"),
    ],
)
def test_every_api_404_is_the_json_error(users, api, method, url):
    response = getattr(api(users.admin), method)(url)
    found = error(response, 404)
    assert found["code"] == "not_found"


def test_tile_errors_are_json_too(users):
    client = Client()
    client.force_login(users.admin)
    assert error(client.get("/tiles/no-such-layer/0/0/0.pbf"), 404)["code"] == "not_found"
    found = error(client.get("/tiles/no-such-layer/0/0/0.pbf?status=%00"), 400)
    assert found["field"] == "status"


def test_a_plain_api_view_answers_405_in_json(users):
    client = Client()
    client.force_login(users.admin)
    response = client.post("/api/map/search/", {"q": "网格"})
    assert error(response, 405)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


def test_a_page_404_stays_a_page(users):
    client = Client()
    client.force_login(users.admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- GeoJSON Features as a form ----------------------------------------------------------------


def test_household_feature_sent_as_multipart_is_400(users, tree, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    response = api(users.worker).post(
        "/api/households/",
        {
            "type": "Feature",
            "geometry": json.dumps({"type": "Point", "coordinates": [point.x, point.y]}),
            "properties": json.dumps({"address": "新户"}),
        },
        format="multipart",
    )
    assert error(response, 400)["field"] == "properties"
    assert not Household.objects.exists()


def test_household_feature_with_list_properties_is_400(users, tree, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    response = api(users.worker).post(
        "/api/households/",
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
            "properties": ["address"],
        },
        format="json",
    )
    assert error(response, 400)["field"] == "properties"


def test_household_feature_as_json_is_accepted(users, tree, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    response = api(users.worker).post(
        "/api/households/",
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
            "properties": {"address": "新户"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Household.objects.get().address == "新户"


# --- coordinates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,field",
    [
        ({"lon": "nan", "lat": "nan"}, "lon"),
        ({"lon": "1e400", "lat": "29.3"}, "lon"),
        ({"lon": "105.9", "lat": "-inf"}, "lat"),
        ({"lon": "181", "lat": "29.3"}, "lon"),
        ({"lon": "105.9", "lat": "91"}, "lat"),
        ({"lon": "east", "lat": "29.3"}, "lon"),
        ({"lat": "29.3"}, "lon"),
    ],
)
def test_nearby_refuses_points_that_are_not_degrees(users, api, catalogue, query, field):
    response = api(users.worker).get("/api/incidents/nearby/", {"category": "T0101", **query})
    assert error(response, 400)["field"] == field


def test_visit_at_999_999_is_refused(users, homes, api):
    response = api(users.worker).post(
        "/api/visits/",
        {
            "household": homes[(1, 1, 1)].pk,
            "location": {"type": "Point", "coordinates": [999, 999]},
        },
        format="json",
    )
    found = error(response, 400)
    assert found["field"] == "location" and "lon" in found["message"]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("coordinates", ["[999, 999]", "[105.9, 1e400]", "[-181, 29.3]"])
def test_incident_points_are_range_checked(users, api, catalogue, coordinates):
    body = '{"title": "x", "category": "T0101", "location": {"type": "Point", "coordinates": %s}}'
    response = api(users.worker).generic(
        "POST", "/api/incidents/", body % coordinates, content_type="application/json"
    )
    assert response.status_code == 400
    assert "location" in {e.get("field") for e in response.json()["errors"]}
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"lon": "nan", "lat": "29.3"}, "lon"),
        ({"lon": "105.9", "lat": "1e400"}, "lat"),
        ({"lon": "200", "lat": "29.3"}, "lon"),
    ],
)
def test_household_points_are_range_checked(users, api, fields, field):
    response = api(users.worker).post(
        "/api/households/", {"address": "x", **fields}, format="multipart"
    )
    assert error(response, 400)["field"] == field
    assert not Household.objects.exists()


def test_household_projected_infinity_is_refused(users, api):
    body = '{"address": "x", "lon": 1e400, "lat": 3400000, "crs": "EPSG:4545"}'
    response = api(users.worker).generic(
        "POST", "/api/households/", body, content_type="application/json"
    )
    assert error(response, 400)["field"] == "lon"


def test_sensor_points_are_range_checked(users, api):
    body = {"code": "FAR", "type": "camera", "lon": 999, "lat": 999, "properties": CAMERA}
    response = api(users.district).post("/api/sensors/sensors/", body, format="json")
    assert error(response, 400)["field"] == "lon"
    assert not Sensor.objects.exists()


def test_broadcast_point_is_range_checked(users, api):
    response = api(users.street).post(
        "/api/sensors/broadcasts/",
        {"message": "撤离", "poles": [], "point": [999, 999]},
        format="json",
    )
    assert response.status_code == 400
    assert not Broadcast.objects.exists()


# --- the rules hold for every view -------------------------------------------------------------


def _api_views():
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    return [
        (route, callback)
        for route, callback in walk(get_resolver().url_patterns)
        if getattr(callback, "cls", None) is not None
    ]


def test_every_api_view_parses_with_the_request_limits():
    from grids.api import parsers

    ours = (parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser)
    views = _api_views()
    assert len(views) > 50
    for route, callback in views:
        classes = list(callback.cls.parser_classes)
        # An @action's own parser_classes are passed in initkwargs.
        classes += list(getattr(callback, "initkwargs", {}).get("parser_classes", []))
        for parser in classes:
            assert issubclass(parser, ours), f"{route} parses with {parser}"
