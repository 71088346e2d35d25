"""Generated junk against the 一标三实 endpoints (the rule of tests/test_fuzz_inputs.py): the
answer is below 500 and in the API's JSON error format, whatever the query or body."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.test_fuzz_inputs import FUZZ, JSON_JUNK, JUNK_TEXT, ROLES, assert_json_answer

GET_ENDPOINTS = {
    "/api/buildings/": ["bbox", "grid", "use", "code", "q", "flagged", "page", "page_size"],
    "/api/units/": ["bbox", "grid", "type", "building", "q", "flagged", "page"],
    "/api/addresses/": ["bbox", "grid", "community", "building", "located", "q", "page"],
    "/api/residents/": ["registration", "tag", "grid", "limit"],
    "/api/catalogues/resident-tags/": ["page"],
}
POST_ENDPOINTS = {
    "/api/buildings/": ["code", "geometry", "footprint", "floors", "use", "built_year",
                        "client_key", "registered_on"],
    "/api/units/": ["name", "type", "geometry", "credit_code", "contact_phone", "employees",
                    "building", "standard_address"],
    "/api/addresses/": ["text", "geometry", "building"],
    "/api/catalogues/resident-tags/": ["code", "name", "group", "levels", "order"],
    "/api/catalogues/unit-types/": ["code", "name", "parent", "order", "active"],
}  # fmt: skip


@pytest.fixture
def clients(users):
    found = {}
    for role in ROLES:
        found[role] = APIClient()
        found[role].force_login(getattr(users, role))
    return found


@FUZZ
@given(role=st.sampled_from(ROLES), endpoint=st.sampled_from(sorted(GET_ENDPOINTS)), data=st.data())
def test_junk_query_parameters(clients, role, endpoint, data):
    names = GET_ENDPOINTS[endpoint]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    query = {name: data.draw(JUNK_TEXT) for name in chosen}
    url = f"{endpoint}?{urlencode(query)}"
    assert_json_answer(clients[role].get(url), f"{role} GET {url!r}")


@FUZZ
@given(
    role=st.sampled_from(ROLES), endpoint=st.sampled_from(sorted(POST_ENDPOINTS)), data=st.data()
)
def test_junk_bodies(clients, role, endpoint, data):
    names = POST_ENDPOINTS[endpoint]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    values = {name: data.draw(JSON_JUNK) for name in chosen}
    if endpoint.startswith("/api/catalogues/"):
        body = "{" + ", ".join(f'"{name}": {value}' for name, value in values.items()) + "}"
    else:
        # A Feature: the geometry beside the properties.
        geometry = values.pop("geometry", "null")
        inner = ", ".join(f'"{name}": {value}' for name, value in values.items())
        body = f'{{"type": "Feature", "geometry": {geometry}, "properties": {{{inner}}}}}'
    response = clients[role].generic("POST", endpoint, body, content_type="application/json")
    assert_json_answer(response, f"{role} POST {endpoint} {body[:300]!r}")
