"""Definitions and personal data (issue #17, review R1 item 1): a definer who may not see
personal data (district centre, departments) may not filter residents on an exact personal
attribute (birth date, origin, the day they moved in) — a per-grid count of it says whether a
named person lives in a grid — and sees a grid's 1 or 2 as "<3" in the preview. Age in whole
years, sex, registration, relation and tags stay usable by every definer."""

from __future__ import annotations

import datetime as dt

import pytest

from grids.models import Resident, today
from reports import definitions
from reports.models import Indicator
from reports.periods import Period
from reports.services.indicators import ensure_groups
from tests.conftest import centre_of

THIS_MONTH = Period.containing(today(), "month")
PREVIEW = "/api/reports/definitions/preview/"


def residents(*where, time="stock") -> dict:
    return {"subject": "residents", "where": list(where), "measure": "count", "time": time}


BORN = {"field": "birth_date", "op": "=", "value": "1945-05-01"}
FROM = {"field": "origin", "op": "=", "value": "四川省南充市"}
WOMEN = {"field": "sex", "op": "=", "value": "F"}


@pytest.fixture
def woman(tree, add_household):
    """One woman born 1945-05-01 from 四川省南充市 in grid (1,1,1)."""
    household = add_household(centre_of(tree.grids[(1, 1, 1)]), registered_on=dt.date(2020, 1, 1))
    return Resident.objects.create(
        household=household,
        name="王五",
        id_number="3" * 18,
        birth_date=dt.date(1945, 5, 1),
        sex="F",
        origin="四川省南充市",
        residence_since=dt.date(2021, 3, 4),
    )


def errors(response) -> dict[str, str]:
    return {e.get("field"): e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize("who", ["department", "district"])
@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (residents(BORN, WOMEN), "definition.where.0.field"),
        (residents(WOMEN, {"any": [FROM, BORN]}), "definition.where.1.any.0.field"),
        (
            residents({"field": "residence_since", "op": ">=", "value": "2021-01-01"}),
            "definition.where.0.field",
        ),
        (residents(time={"within": "residence_since"}), "definition.time.within"),
    ],
)
def test_a_definer_without_personal_data_rights_may_not_filter_on_personal_fields(
    api, users, woman, who, definition, field
):
    client = api(getattr(users, who))
    if who == "department":  # she sees no household at all (the district sees them masked)
        assert client.get(f"/api/households/{woman.household_id}/").status_code in (403, 404)
    response = client.post(
        PREVIEW, {"definition": definition, "period": THIS_MONTH.key}, format="json"
    )
    assert response.status_code == 400, response.content
    assert errors(response)[field] == "personal_field"
    assert "personal" not in response.json()["errors"][0]["message"]  # said in Chinese


def test_an_administrator_may_and_the_platform_may(api, users, woman):
    response = api(users.admin).post(
        PREVIEW, {"definition": residents(BORN, WOMEN), "period": THIS_MONTH.key}, format="json"
    )
    assert response.status_code == 200, response.content
    assert float(response.json()["grids"][0]["value"]) == 1  # exact: she may see the person
    assert definitions.validate(residents(BORN)) == []  # no user: seeds, the matcher
    assert [p.code for p in definitions.validate(residents(FROM), users.department)] == [
        "personal_field"
    ]


def test_aggregates_stay_usable_and_small_cells_show_as_below_three(api, users, tree, woman):
    eighty = residents({"field": "age", "op": ">=", "value": 80}, WOMEN)
    response = api(users.department).post(
        PREVIEW, {"definition": eighty, "period": THIS_MONTH.key}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert float(body["total"]) == 1  # the district's total stays exact
    assert body["grids"][0] == {
        "code": tree.grids[(1, 1, 1)].code,
        "name": tree.grids[(1, 1, 1)].name,
        "value": "<3",
    }
    # A community's total is a small cell too.
    response = api(users.department).post(
        PREVIEW,
        {"definition": eighty, "period": THIS_MONTH.key, "region": tree.communities[(1, 1)].code},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "<3"
    # Zero and three or more are shown as they are.
    assert definitions.masked(0) == 0 and definitions.masked(3) == 3


def test_the_indicators_api_refuses_personal_fields_to_the_definer_who_may_not_see_them(
    api, users, woman
):
    ensure_groups()
    body = {
        "code": "POP_FROM_NANCHONG",
        "name": "南充籍居民",
        "unit": "人",
        "group": "population",
        "value_type": "integer",
        "aggregation": "sum",
        "level": "grid",
        "period_type": "month",
        "source": "derived",
        "definition": residents(FROM),
    }
    response = api(users.district).post("/api/reports/indicators/", body, format="json")
    assert response.status_code == 400, response.content
    assert errors(response) == {"definition.where.0.field": "personal_field"}
    assert not Indicator.objects.filter(code="POP_FROM_NANCHONG").exists()

    # An administrator may define it; the district centre may then rename it, but not
    # write a personal field into its definition.
    assert api(users.admin).post("/api/reports/indicators/", body, format="json").status_code == 201
    url = "/api/reports/indicators/POP_FROM_NANCHONG/"
    response = api(users.district).patch(url, {"name": "南充籍常住居民"}, format="json")
    assert response.status_code == 200, response.content
    response = api(users.district).patch(url, {"definition": residents(FROM, BORN)}, format="json")
    assert response.status_code == 400
    assert errors(response) == {
        "definition.where.0.field": "personal_field",
        "definition.where.1.field": "personal_field",
    }


def test_subjects_mark_personal_fields(api, users):
    response = api(users.department).get("/api/reports/subjects/")
    fields = {
        f["name"]: f["personal"]
        for s in response.json()["subjects"]
        if s["key"] == "residents"
        for f in s["fields"]
    }
    assert fields["birth_date"] and fields["origin"] and fields["residence_since"]
    assert not any(fields[name] for name in ("age", "sex", "registration", "tags", "relation"))
