"""The 一标三实 API for people and catalogues: households in buildings at standard addresses,
residents' registration, relation and tags with levels (checked against the catalogue held as
data), and the catalogues themselves (read by all, extended by administrators)."""

from __future__ import annotations

import pytest

from grids.models import Household, ResidentTagKind, UnitType
from grids.services import basedata
from tests.conftest import centre_of
from tests.test_basedata_api import errors_by_field, feature, make_building


@pytest.fixture
def home_grid(tree):
    return tree.grids[(1, 1, 1)]  # the grid worker's


@pytest.fixture
def far_grid(tree):
    return tree.grids[(2, 2, 2)]  # the other worker's, another street


# --- households and residents ------------------------------------------------------------------


def test_a_household_lives_in_a_building_at_an_address(api, users, home_grid, far_grid):
    building = make_building(home_grid, "HH-1")
    address, _ = basedata.get_or_create_address("萱花路20号", location=centre_of(home_grid))
    client = api(users.worker)
    body = feature(
        centre_of(home_grid),
        address="萱花路20号",
        building=building.pk,
        standard_address=address.pk,
    )
    response = client.post("/api/households/", body, format="json")
    assert response.status_code == 201, response.json()
    properties = response.json()["properties"]
    assert (properties["building"], properties["standard_address"]) == (building.pk, address.pk)
    household = Household.objects.get()
    assert (household.building, household.standard_address) == (building, address)
    far = make_building(far_grid, "HH-2")
    moved = client.patch(
        f"/api/households/{household.pk}/", {"properties": {"building": far.pk}}, format="json"
    )
    assert moved.status_code == 400
    assert "building" in errors_by_field(moved)


def test_residents_carry_registration_relation_and_tags_with_levels(
    api, users, home_grid, add_household
):
    household = add_household(centre_of(home_grid))
    client = api(users.worker)
    body = {
        "name": "李四",
        "sex": "M",
        "birth_date": "1950-03-01",
        "id_number": "500118195003011234",
        "registration": "floating",
        "residence_since": "2020-05-01",
        "origin": "四川省南充市",
        "relation": "head",
        "tags": ["elderly", "disabled"],
        "tag_levels": {"disabled": "二级"},
    }
    response = client.post(f"/api/households/{household.pk}/residents/", body, format="json")
    assert response.status_code == 201, response.json()
    resident = response.json()[0]
    assert (resident["registration"], resident["relation"]) == ("floating", "head")
    assert resident["tag_levels"] == {"disabled": "二级"}
    assert resident["residence_since"] == "2020-05-01"
    floating = client.get("/api/residents/?registration=floating").json()
    assert [r["name"] for r in floating] == ["李四"]
    assert client.get("/api/residents/?registration=registered").json() == []
    bad = client.get("/api/residents/?registration=alien")
    assert bad.status_code == 400
    assert errors_by_field(bad) == {"registration": "invalid"}


@pytest.mark.parametrize(
    ("tags", "levels", "field", "code"),
    [
        (["wizard"], {}, "tags", "unknown_tag"),
        (["disabled"], {"disabled": "九级"}, "tag_levels.disabled", "unknown_level"),
        (["elderly"], {"disabled": "一级"}, "tag_levels.disabled", "level_without_tag"),
    ],
)
def test_tags_are_checked_against_the_catalogue(
    api, users, home_grid, add_household, tags, levels, field, code
):
    household = add_household(centre_of(home_grid))
    body = {
        "name": "王五",
        "sex": "F",
        "id_number": "500118196001011234",
        "birth_date": "1960-01-01",
        "tags": tags,
        "tag_levels": levels,
    }
    response = api(users.worker).post(
        f"/api/households/{household.pk}/residents/", body, format="json"
    )
    assert response.status_code == 400
    assert errors_by_field(response) == {field: code}
    assert not household.residents.exists()


# --- catalogues --------------------------------------------------------------------------------


def test_catalogues_are_read_by_all_and_extended_by_administrators(
    api, users, home_grid, add_household
):
    tags = api(users.worker).get("/api/catalogues/resident-tags/")
    assert tags.status_code == 200
    disabled = next(kind for kind in tags.json() if kind["code"] == "disabled")
    assert disabled["levels"] == ["一级", "二级", "三级", "四级"]
    new_kind = {"code": "hearing_aid", "name": "助听对象", "group": "care", "levels": []}
    assert (
        api(users.worker)
        .post("/api/catalogues/resident-tags/", new_kind, format="json")
        .status_code
        == 403
    )
    created = api(users.admin).post("/api/catalogues/resident-tags/", new_kind, format="json")
    assert created.status_code == 201, created.json()
    # At once usable on a resident: the catalogue is data.
    household = add_household(centre_of(home_grid))
    response = api(users.worker).post(
        f"/api/households/{household.pk}/residents/",
        {
            "name": "赵六",
            "sex": "M",
            "id_number": "500118197001011234",
            "birth_date": "1970-01-01",
            "tags": ["hearing_aid"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    renamed = api(users.admin).patch(
        "/api/catalogues/resident-tags/hearing_aid/", {"code": "hearing"}, format="json"
    )
    assert renamed.status_code == 400
    assert errors_by_field(renamed) == {"code": "invalid"}
    retired = api(users.admin).patch(
        "/api/catalogues/resident-tags/hearing_aid/", {"active": False}, format="json"
    )
    assert retired.status_code == 200
    assert not ResidentTagKind.objects.get(code="hearing_aid").active
    twice = api(users.admin).post(
        "/api/catalogues/resident-tags/",
        {"code": "twice", "name": "重复", "group": "care", "levels": ["一级", "一级"]},
        format="json",
    )
    assert twice.status_code == 400
    assert "levels" in errors_by_field(twice)


def test_unit_types_have_two_levels(api, users):
    types = api(users.community).get("/api/catalogues/unit-types/").json()
    private = next(t for t in types if t["code"] == "private")
    assert (private["parent"], private["parent_name"]) == ("enterprise", "企业")
    admin = api(users.admin)
    made = admin.post(
        "/api/catalogues/unit-types/",
        {"code": "tea_house", "name": "茶馆", "parent": "restaurant"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    too_deep = admin.post(
        "/api/catalogues/unit-types/",
        {"code": "x", "name": "x", "parent": "private"},
        format="json",
    )
    assert too_deep.status_code == 400
    assert "parent" in errors_by_field(too_deep)
    assert UnitType.objects.filter(code="tea_house", parent__code="restaurant").exists()
    assert admin.delete("/api/catalogues/unit-types/tea_house/").status_code == 405
