"""The OpenAPI schema describes the answers the API gives (issue #15, item 3): the
reproductions of the mismatches found, each against the schema /api/schema/ serves. The
schemathesis run over every operation is tests/test_api_schemathesis.py."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from grids.services.households import add_residents

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    """The schema as served, made once for the module (it takes seconds)."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def ok_body(schema, path, method="get", status="200"):
    return schema["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"
    ]


def component(schema, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].removeprefix(REF)]


@pytest.mark.parametrize(
    "path", ["/api/grids/", "/api/households/", "/api/regions/", "/api/sensors/sensors/"]
)
def test_geojson_lists_are_documented_as_feature_collection_pages(schema, path, api, users, homes):
    page = component(schema, ok_body(schema, path))
    collection, counted = page["allOf"]
    assert component(schema, collection)["properties"]["features"]["type"] == "array"
    assert counted["required"] == ["type", "count", "features"]
    assert "results" not in str(page)
    body = api(users.street).get(path).json()
    assert body["type"] == "FeatureCollection" and "count" in body and "features" in body


@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/metrics/",
        "/api/incidents/nearby/",
        "/api/incidents/{id}/duplicates/",
        "/api/tasks/figures/",
        "/api/households/{id}/residents/",
    ],
)
def test_plain_lists_are_documented_as_lists_not_pages(schema, path):
    assert ok_body(schema, path)["type"] == "array"


def test_task_figures_document_their_rows(schema):
    row = component(schema, ok_body(schema, "/api/tasks/figures/")["items"])
    assert {"key", "label", "tasks", "done", "completion_rate"} <= set(row["properties"])
    assert row["properties"]["label"]["nullable"] is True


def test_adding_residents_is_documented_as_201(schema):
    responses = schema["paths"]["/api/households/{id}/residents/"]["post"]["responses"]
    assert "201" in responses and "200" not in responses


def test_marking_notifications_read_is_documented_as_a_count(schema, api, users):
    body = component(schema, ok_body(schema, "/api/notifications/read/", "post"))
    assert body["properties"] == {"marked": body["properties"]["marked"]}
    assert body["properties"]["marked"]["type"] == "integer"
    assert api(users.street).post("/api/notifications/read/", {}, format="json").json() == {
        "marked": 0
    }


@pytest.mark.parametrize(
    "name, field",
    [
        ("Category", "parent"),
        ("Category", "department"),
        ("Task", "assignee"),
        ("Incident", "department"),
        ("Incident", "whistle_class"),
    ],
)
def test_empty_relations_are_nullable(schema, name, field):
    assert schema["components"]["schemas"][name]["properties"][field]["nullable"] is True


def test_a_department_has_no_jurisdiction_and_the_schema_says_so(schema, api, users):
    me = schema["components"]["schemas"]["User"]["properties"]["jurisdiction"]
    assert me["nullable"] is True and set(me["required"]) == {"kind", "id", "code", "name"}
    assert api(users.department).get("/api/me/").json()["jurisdiction"] is None


def test_masked_residents_match_the_documented_forms(schema, api, users, homes):
    add_residents(
        homes[(1, 1, 1)],
        [
            {
                "name": "张三丰",
                "id_number": "500118195001011234",
                "birth_date": "1950-01-01",
                "sex": "M",
                "phone": "13812345678",
            }
        ],
    )
    (resident,) = api(users.district).get("/api/residents/").json()
    assert resident["masked"] is True
    documented = schema["components"]["schemas"]["Resident"]["properties"]
    assert re.fullmatch(documented["id_number"]["pattern"], resident["id_number"])
    assert re.fullmatch(documented["birth_date"]["pattern"], resident["birth_date"])
    assert re.fullmatch(documented["id_number"]["pattern"], "500118195001011234")
    assert re.fullmatch(documented["birth_date"]["pattern"], "1950-01-01")


def test_grid_leader_is_nullable(schema):
    grid = schema["components"]["schemas"]["Grid"]["properties"]["properties"]["properties"]
    assert grid["leader"]["nullable"] is True


def test_every_operation_documents_the_error_body_and_statuses(schema):
    error = {"$ref": f"{REF}Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["status", "errors"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ["400", "404", "429", "503"]:
                body = responses[status]["content"]["application/json"]["schema"]
                assert body == error or error in body.get("anyOf", []), (method, path, status)
            assert "Retry-After" in responses["503"]["headers"]
            if method in {"post", "put", "patch", "delete"}:
                assert "409" in responses, (method, path)
            if "requestBody" in operation:
                assert {"413", "415"} <= set(responses), (method, path)


def test_the_auth_token_operation_documents_no_401(schema):
    """Getting a token needs no authentication, so it cannot answer 'not authenticated'."""
    assert "401" not in schema["paths"]["/api/auth/token/"]["post"]["responses"]


# --- a server error schemathesis found -----------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        # PostgreSQL holds offsets up to ±15:59; Python reads up to ±23:59.
        "3929-12-24T08:13:37-18:14",
        # Year 10000 once converted to UTC.
        "9999-12-31T23:59:59-10:00",
        # Year 0 once converted to UTC.
        "0001-01-01T00:00:00+10:00",
    ],
)
def test_incident_time_filters_refuse_times_out_of_range(api, users, incident, moment):
    response = api(users.street).get("/api/incidents/", {"reported_after": moment})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "reported_after" and error["code"] == "out_of_range"


def test_incident_time_filters_take_any_offset_python_reads(api, users, incident):
    """+23:00 is a time PostgreSQL would refuse as written; it is compared in UTC."""
    client = api(users.street)
    before = client.get("/api/incidents/", {"reported_after": "2024-01-01T00:00:00+23:00"})
    assert before.status_code == 200 and before.json()["count"] == 1
    after = client.get("/api/incidents/", {"reported_before": "2024-01-01T00:00:00-18:00"})
    assert after.status_code == 200 and after.json()["count"] == 0
