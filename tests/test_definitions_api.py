"""Indicators defined as data through the API and the page (issue #17): subjects, preview,
problems named by field, an indicator created and edited with a definition, its values in
reports, seeded definitions."""

from __future__ import annotations

import datetime as dt

import pytest

from grids.models import Resident, ResidentTagKind, today
from reports.definitions.seeds import SEEDS
from reports.models import Indicator
from reports.periods import Period
from reports.services.indicators import GROUPS, ensure_groups, sync_defined
from reports.services.values import Values, tree_under
from tests.conftest import centre_of

THIS_MONTH = Period.containing(today(), "month")
EIGHTY = {
    "subject": "residents",
    "where": [{"field": "age", "op": ">=", "value": 80}],
    "measure": "count",
    "time": "stock",
}


@pytest.fixture
def elders(tree, add_household):
    """Two people of 85 in grid (1,1,1), one of 85 and one of 40 in grid (2,2,2)."""
    old = today().replace(year=today().year - 85, day=1)
    for key, births in (((1, 1, 1), [old, old]), ((2, 2, 2), [old, dt.date(1990, 1, 1)])):
        household = add_household(centre_of(tree.grids[key]), registered_on=dt.date(2020, 1, 1))
        for birth in births:
            Resident.objects.create(
                household=household, name="李四", id_number="2" * 18, birth_date=birth, sex="M"
            )
    return tree


def errors(response) -> dict[str, str]:
    return {e.get("field"): e["code"] for e in response.json()["errors"]}


# ---- subjects and preview --------------------------------------------------------------


def test_subjects_list_fields_with_their_operators_and_catalogue_codes(api, users):
    ResidentTagKind.objects.get_or_create(
        code="disabled", defaults={"name": "残疾人", "group": "care", "levels": ["一级", "二级"]}
    )
    response = api(users.district).get("/api/reports/subjects/")
    assert response.status_code == 200
    by_key = {s["key"]: s for s in response.json()["subjects"]}
    assert {"residents", "households", "buildings", "units", "incidents", "sensors"} <= set(by_key)
    fields = {f["name"]: f for f in by_key["residents"]["fields"]}
    assert ">=" in fields["age"]["ops"] and "has" in fields["tags"]["ops"]
    assert fields["tags"]["levels"]["disabled"][:2] == ["一级", "二级"]
    assert {"code": "floating", "name": "流动人口"} in fields["registration"]["choices"]
    assert by_key["visits"]["stock"] is False


def test_preview_gives_the_district_figure_and_the_top_grids(
    api, users, elders, django_assert_max_num_queries
):
    client = api(users.district)
    # The region, its tree, the one statement, and the catalogue the sentence names.
    with django_assert_max_num_queries(8):
        response = client.post(
            "/api/reports/definitions/preview/",
            {"definition": EIGHTY, "period": THIS_MONTH.key},
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert float(body["total"]) == 3
    assert body["grid_count"] == 8 and body["grids_with_value"] == 2
    assert [g["code"] for g in body["grids"][:2]] == [
        elders.grids[(1, 1, 1)].code,
        elders.grids[(2, 2, 2)].code,
    ]
    assert "80" in body["description"]


def test_preview_under_a_street(api, users, elders):
    response = api(users.street).post(
        "/api/reports/definitions/preview/", {"definition": EIGHTY}, format="json"
    )
    # A street centre does not define indicators.
    assert response.status_code == 403
    body = {"definition": EIGHTY, "region": elders.streets[1].code, "period": THIS_MONTH.key}
    response = api(users.admin).post("/api/reports/definitions/preview/", body, format="json")
    assert float(response.json()["total"]) == 2
    # Without personal-data rights, a street's total of 1 or 2 is a small cell.
    response = api(users.district).post("/api/reports/definitions/preview/", body, format="json")
    assert response.json()["total"] == "<3"


def test_preview_problems_name_the_field_and_say_why_in_chinese(api, users):
    bad = {"subject": "residents", "where": [{"field": "age", "op": "has", "value": 80}]}
    response = api(users.district).post(
        "/api/reports/definitions/preview/",
        {"definition": bad},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert errors(response) == {"definition.where.0.op": "bad_op"}
    message = response.json()["errors"][0]["message"]
    assert "age" in message and any("\u4e00" <= ch <= "\u9fff" for ch in message)
    response = api(users.district).post(
        "/api/reports/definitions/preview/", {"period": "2026-10"}, format="json"
    )
    assert errors(response) == {"definition": "missing"}
    response = api(users.district).post(
        "/api/reports/definitions/preview/",
        {"definition": EIGHTY, "period": "last month"},
        format="json",
    )
    assert response.status_code == 400 and "period" in errors(response)


@pytest.mark.parametrize(
    "body",
    [
        # JSON's 1e400 is read as infinity; a tag given as a list with a level; a day whose
        # next day a date cannot hold. Each answered 500 before review.
        '{"definition": {"subject": "residents",'
        ' "where": [{"field": "age", "op": ">=", "value": 1e400}]}}',
        '{"definition": {"subject": "residents",'
        ' "where": [{"field": "tags", "op": "has", "value": ["disabled"], "level": "一级"}]}}',
        '{"definition": {"subject": "incidents", "time": {"within": "reported_at"},'
        ' "where": [{"field": "reported_at", "op": "=", "value": "9999-12-31"}]}}',
    ],
)
def test_preview_of_junk_answers_400_naming_the_value(client, users, body):
    client.force_login(users.district)
    response = client.post(
        "/api/reports/definitions/preview/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert list(errors(response)) == ["definition.where.0.value"]


# ---- an indicator defined as data ------------------------------------------------------


def new_indicator(**fields) -> dict:
    return {
        "code": "POP_OLD_80",
        "name": "八十岁以上老人",
        "unit": "人",
        "group": "population",
        "value_type": "integer",
        "aggregation": "sum",
        "level": "grid",
        "period_type": "month",
        "source": "derived",
        "definition": EIGHTY,
        **fields,
    }


def test_an_indicator_created_with_a_definition_gives_values_in_reports(api, users, elders):
    ensure_groups()
    client = api(users.district)
    response = client.post("/api/reports/indicators/", new_indicator(), format="json")
    assert response.status_code == 201, response.content
    indicator = Indicator.objects.get(code="POP_OLD_80")
    assert indicator.definition == EIGHTY and indicator.derivation == ""
    assert "80" in indicator.description  # read out when none is given
    values = Values(tree_under(elders.district, today()), THIS_MONTH)
    assert values.at(indicator, "district")[elders.district.pk].value == 3
    response = client.get(
        "/api/reports/indicators/POP_OLD_80/values/",
        {"period": THIS_MONTH.key},
    )
    assert response.status_code == 200, response.content
    by_grid = {v["code"]: float(v["value"]) for v in response.json()["values"]}
    assert by_grid[elders.grids[(1, 1, 1)].code] == 2 and sum(by_grid.values()) == 3
    # Edited: 90 and above.
    ninety = {**EIGHTY, "where": [{"field": "age", "op": ">=", "value": 90}]}
    response = client.patch(
        "/api/reports/indicators/POP_OLD_80/", {"definition": ninety}, format="json"
    )
    assert response.status_code == 200, response.content
    indicator.refresh_from_db()
    values = Values(tree_under(elders.district, today()), THIS_MONTH)
    assert values.at(indicator, "district")[elders.district.pk].value == 0


def test_a_changed_definition_is_read_out_again_unless_described_by_a_person(api, users):
    ensure_groups()
    client = api(users.district)
    response = client.post("/api/reports/indicators/", new_indicator(), format="json")
    assert response.status_code == 201, response.content
    ninety = {**EIGHTY, "where": [{"field": "age", "op": ">=", "value": 90}]}
    response = client.patch(
        "/api/reports/indicators/POP_OLD_80/", {"definition": ninety}, format="json"
    )
    assert response.status_code == 200, response.content
    description = Indicator.objects.get(code="POP_OLD_80").description
    assert "90" in description and "80" not in description
    # A person's own words stay whatever the definition becomes.
    own = {"description": "高龄老人（民政口径）"}
    client.patch("/api/reports/indicators/POP_OLD_80/", own, format="json")
    response = client.patch(
        "/api/reports/indicators/POP_OLD_80/", {"definition": EIGHTY}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Indicator.objects.get(code="POP_OLD_80").description == own["description"]


def test_a_bad_definition_is_refused_with_its_fields_and_nothing_written(api, users):
    ensure_groups()
    bad = {**EIGHTY, "measure": {"sum": "sex"}, "time": {"within": "age"}}
    response = api(users.district).post(
        "/api/reports/indicators/", new_indicator(definition=bad), format="json"
    )
    assert response.status_code == 400
    assert errors(response) == {
        "definition.measure.sum": "bad_measure",
        "definition.time.within": "bad_time",
    }
    assert not Indicator.objects.filter(code="POP_OLD_80").exists()
    response = api(users.district).post(
        "/api/reports/indicators/",
        new_indicator(definition=EIGHTY, derivation="households"),
        format="json",
    )
    assert response.status_code == 400 and "derivation" in errors(response)
    response = api(users.district).post(
        "/api/reports/indicators/",
        new_indicator(source="collected"),
        format="json",
    )
    assert response.status_code == 400 and "definition" in errors(response)


def test_a_community_may_not_define(api, users):
    ensure_groups()
    response = api(users.community).post("/api/reports/indicators/", new_indicator(), format="json")
    assert response.status_code == 403


# ---- seeds -------------------------------------------------------------------------------


def test_every_seed_is_a_valid_definition_once_its_catalogues_exist(db):
    from reports import definitions

    codes = [seed[0] for seed in SEEDS]
    assert len(codes) == len(set(codes))
    for code, _name, _unit, group, _aliases, definition in SEEDS:
        structural = [
            p
            for p in definitions.validate(definition)
            if p.code not in ("unknown_code", "unknown_level")
        ]
        assert structural == [], code
        assert group in {g[0] for g in GROUPS}


def test_seeded_definitions_are_created_once_and_kept_as_edited(db):
    sync_defined()
    eighty = Indicator.objects.get(code="POP_AGE_80")
    assert eighty.definition["where"] == [{"field": "age", "op": ">=", "value": 80}]
    assert eighty.time_aggregation == "latest"
    Indicator.objects.filter(pk=eighty.pk).update(name="高龄老人")
    assert sync_defined() == []
    assert Indicator.objects.get(code="POP_AGE_80").name == "高龄老人"
    assert Indicator.objects.get(code="ORG_GRIDS").definition == {
        "subject": "grids",
        "where": [],
        "measure": "count",
        "time": "stock",
    }


# ---- the page ---------------------------------------------------------------------------


def test_the_definitions_page_is_chinese_and_for_definers(client, users):
    client.force_login(users.district)
    response = client.get("/reports/definitions/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "定义" in page and "definitions.js" in page
    client.force_login(users.worker)
    assert client.get("/reports/definitions/").status_code == 403


def test_the_page_opens_an_indicator_to_edit(client, users):
    sync_defined()
    client.force_login(users.district)
    response = client.get("/reports/definitions/?code=POP_AGE_80")
    assert response.status_code == 200
    assert "POP_AGE_80" in response.content.decode()
    assert client.get("/reports/definitions/?code=NOPE").status_code == 404


def test_flow_seeds_add_up_over_time(db):
    sync_defined()
    fixed = Indicator.objects.get(code="GOV_HAZARDS_FIXED")
    assert fixed.time_aggregation == "sum"
    assert fixed.definition["time"] == {"within": "closed_at"}
