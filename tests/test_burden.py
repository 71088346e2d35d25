"""The burden figures and page (issue #17 item 5): fields typed per community and per grid
worker, by department, for a month and a year, before → after; the items still typed and
why; changes signed as people read them (never "−-5.0%")."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import Indicator, ReportTemplate, TemplateColumn
from reports.periods import Period
from reports.services import burden
from reports.services.indicators import ensure_groups
from reports.views.burden import signed_percent

NOVEMBER = Period.parse("2025-11")
DECEMBER = Period.parse("2025-12")  # a quarter's and a year's last month


@pytest.fixture
def items(db):
    groups = ensure_groups()

    def make(code: str, **fields) -> Indicator:
        defaults = {
            "name": code,
            "unit": "人",
            "group": groups["population"],
            "value_type": "integer",
            "aggregation": "sum",
            "level": "grid",
            "period_type": "month",
            "source": "collected",
        }
        return Indicator.objects.create(code=code, **(defaults | fields))

    return {
        # A department's own typed copy of what the platform computes already.
        "floating": make("FLOATING_TYPED", name="流动人口数"),
        "computed": make(
            "DEF_FLOATING",
            name="流动人口数",
            source="derived",
            definition={
                "subject": "residents",
                "where": [{"field": "registration", "op": "=", "value": "floating"}],
                "measure": "count",
                "time": "stock",
            },
        ),
        "shelters": make(
            "SHELTERS", name="避难场所数", unit="处", level="community", period_type="quarter"
        ),
        "leader": make(
            "LEADER",
            name="书记兼主任",
            unit="",
            value_type="boolean",
            level="community",
            period_type="quarter",
        ),
        "households": Indicator.objects.get(code="POP_HOUSEHOLDS"),
    }


def template(owner, code, row_level, period_type, indicators, title=None):
    t = ReportTemplate.objects.create(
        owner=owner,
        code=code,
        title=title or code,
        row_level=row_level,
        period_type=period_type,
    )
    for order, indicator in enumerate(indicators, 1):
        TemplateColumn.objects.create(template=t, order=order, indicator=indicator)
    return t


@pytest.fixture
def forms(tree, users, items):
    """Civil affairs: a monthly grid-row form (typed floating, computed households, shelters
    typed per community each quarter). Emergency: a quarterly community-row form (shelters,
    yes/no leader)."""
    civil = users.department.department
    emergency = type(civil).objects.create(
        code="emergency", name="应急管理局", district=tree.district
    )
    template(
        civil,
        "civil",
        "grid",
        "month",
        [items["floating"], items["households"], items["shelters"]],
        "民政月报",
    )
    template(emergency, "safety", "community", "quarter", [items["shelters"], items["leader"]])
    return {"civil": civil, "emergency": emergency}


def test_changes_are_signed_as_people_read_them():
    assert signed_percent(-0.3521) == "−35.2%"
    assert signed_percent(0.05) == "+5.0%"
    assert signed_percent(-0.05) == "−5.0%"
    assert signed_percent(0) == "0%"
    assert signed_percent(-0.00001) == "0%"
    assert signed_percent(None) == "–"


def test_a_month_per_community_per_grid_worker_and_per_department(tree, forms):
    figures = burden.burden(tree.district, NOVEMBER)
    # Before: 8 grid rows × 3 columns. Now: the typed floating item per grid; shelters are
    # typed per community at a quarter's end only, households computed.
    assert (figures["before"], figures["now"]) == (24, 8)
    assert figures["per_community"] == {"before": 6.0, "now": 2.0}
    assert figures["per_grid_worker"] == {
        "workers": 2,
        "before": 12.0,
        "now": 4.0,
        "change": pytest.approx(-2 / 3, abs=1e-4),
    }
    assert figures["change"] == pytest.approx(8 / 24 - 1, abs=1e-4)
    assert [(d["department"], d["before"], d["now"]) for d in figures["departments"]] == [
        ("民政局", 24, 8)
    ]


def test_a_quarter_end_counts_community_items_once_per_community(tree, forms):
    figures = burden.burden(tree.district, DECEMBER)
    # Before: 24 + 4 community rows × 2 columns. Now: floating × 8 grids, shelters and the
    # yes/no answer × 4 communities: shelters once although both departments ask for it.
    assert (figures["before"], figures["now"]) == (32, 16)
    assert figures["before_by_level"] == {"grid": 24, "community": 8, "street": 0}
    assert figures["now_by_level"] == {"grid": 8, "community": 8, "street": 0}
    by_department = {d["department"]: (d["before"], d["now"]) for d in figures["departments"]}
    assert by_department == {"民政局": (24, 12), "应急管理局": (8, 8)}
    shared = {s["indicator"]: s["templates"] for s in figures["shared"]}
    assert shared == {"SHELTERS": 2}


def test_each_item_still_typed_says_why(tree, forms):
    typed = {row["indicator"]: row for row in burden.burden(tree.district, DECEMBER)["typed"]}
    assert set(typed) == {"FLOATING_TYPED", "SHELTERS", "LEADER"}
    assert typed["FLOATING_TYPED"]["reason"] == burden.NO_DEFINITION
    # Two computed items are named so (the fixture's and the seeded one): either answers.
    could_be = typed["FLOATING_TYPED"]["could_be"]
    assert could_be["name"] == "流动人口数"
    assert could_be["code"] in {"DEF_FLOATING", "POP_FLOATING"}
    assert typed["SHELTERS"]["reason"] == burden.NO_DATA
    assert typed["SHELTERS"]["departments"] == ["应急管理局", "民政局"]
    assert typed["LEADER"]["reason"] == burden.POLICY
    assert typed["FLOATING_TYPED"]["fields"] == 8 and typed["SHELTERS"]["fields"] == 4


def test_the_year_adds_the_months_up(tree, forms):
    year = burden.burden_year(tree.district, 2025)
    # Before: 12 × 24 + 4 quarter ends × 8. Now: 12 × 8 + 4 × 8.
    assert (year["before"], year["now"]) == (12 * 24 + 4 * 8, 12 * 8 + 4 * 8)
    assert year["per_community_month"] == {
        "before": round((12 * 24 + 32) / 12 / 4, 1),
        "now": round((12 * 8 + 32) / 12 / 4, 1),
    }
    assert year["per_grid_worker_month"]["before"] == 12.0
    assert year["change"] == pytest.approx(128 / 320 - 1, abs=1e-4)
    assert {d["department"] for d in year["departments"]} == {"民政局", "应急管理局"}


def test_more_after_than_before_is_shown_as_an_increase(tree, users, items):
    # A yearly community-row form asking an item the ledger asks of every grid each month.
    template(users.department.department, "yearly", "community", "year", [items["floating"]])
    figures = burden.burden(tree.district, DECEMBER)
    assert (figures["before"], figures["now"]) == (4, 8)
    assert figures["change"] == 1.0
    # Typed per grid where the only form asking for it needs one answer per community.
    (typed,) = figures["typed"]
    assert typed["finer_than_needed"] == "community"
    client = Client()
    client.force_login(users.district)
    body = client.get(f"/reports/burden/?month={DECEMBER.key}").content.decode()
    assert "+100.0%" in body and "−-" not in body and "--" not in body.split("<body")[1]


def test_the_page_is_chinese_and_lists_what_is_still_typed(tree, users, forms):
    client = Client()
    client.force_login(users.district)
    response = client.get(f"/reports/burden/?month={DECEMBER.key}")
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["change_label"] == "−50.0%"
    assert 'id="reduction"' in body and "−50.0%" in body and "−-" not in body
    assert 'data-indicator="FLOATING_TYPED" data-reason="no_definition"' in body
    assert 'data-indicator="LEADER" data-reason="policy"' in body
    assert 'data-department="应急管理局"' in body
    for words in ("每个社区", "每名网格员", "按部门", "仍需手工填报", "按规定"):
        assert words in body, words


def test_the_api_gives_the_same_figures(tree, users, forms, api):
    data = api(users.district).get("/api/reports/burden/", {"month": DECEMBER.key}).json()
    assert data["per_community"] == {"before": 8.0, "now": 4.0}
    assert data["change"] == -0.5
    assert {row["indicator"]: row["reason"] for row in data["typed"]} == {
        "FLOATING_TYPED": "no_definition",
        "SHELTERS": "no_data",
        "LEADER": "policy",
    }
    assert data["year"]["per_community_month"]["before"] == round(320 / 12 / 4, 1)


def test_the_figures_take_the_same_queries_whatever_the_number_of_forms(
    tree, users, items, forms, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        burden.burden(tree.district, DECEMBER, explain=False)
    for n in range(6):
        template(users.department.department, f"more-{n}", "grid", "month", [items["floating"]])
    with django_assert_max_num_queries(14):
        burden.burden(tree.district, DECEMBER, explain=False)
