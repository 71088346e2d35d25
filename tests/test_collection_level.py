"""Collection level (issue #17, item 3): each collected item says who types it (grid,
community, street); the ledger asks it only there; roll-ups, reports, completeness and the
burden figures handle items of mixed levels; an item nobody has typed yet is typed at the
level its forms need, and one already typed keeps its level."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from grids.problems import ProblemsError
from reports.models import Indicator, LedgerEntry, ReportTemplate, TemplateColumn
from reports.periods import Period
from reports.services import burden, completeness, ledger, levels
from reports.services.generate import build_table
from reports.services.indicators import ensure_groups, sync_derived
from reports.services.values import Values, tree_under

TODAY = timezone.localdate()
THIS_MONTH = Period.containing(TODAY, "month")
LAST_MONTH = THIS_MONTH.previous()


@pytest.fixture
def groups(db):
    sync_derived()
    return ensure_groups()


@pytest.fixture
def make_indicator(groups):
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

    return make


@pytest.fixture
def mixed(tree, users, make_indicator):
    """A community-row monthly form asking one item typed per grid (insured) and one typed
    per community (cadres)."""
    insured = make_indicator("INSURED", name="参保人数")
    cadres = make_indicator("CADRES", name="两委班子人数", level="community")
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="community-monthly",
        title="社区基础情况月报",
        row_level="community",
        period_type="month",
    )
    for order, indicator in enumerate([insured, cadres], 1):
        TemplateColumn.objects.create(template=template, order=order, indicator=indicator)
    return {"insured": insured, "cadres": cadres, "template": template}


def put(indicator: Indicator, period: Period, number, **unit) -> None:
    LedgerEntry.objects.create(
        indicator=indicator,
        period_type=indicator.period_type,
        period_start=period.start,
        number=number,
        **unit,
    )


def test_the_ledger_asks_each_item_only_at_its_level(tree, users, mixed):
    grid, community = tree.grids[(1, 1, 1)], tree.communities[(1, 1)]
    assert [i.indicator.code for i in ledger.sheet(grid, THIS_MONTH)["items"]] == ["INSURED"]
    assert [i.indicator.code for i in ledger.sheet(community, THIS_MONTH)["items"]] == ["CADRES"]
    for user, unit, code in [
        (users.worker, grid, "CADRES"),
        (users.community, community, "INSURED"),
    ]:
        with pytest.raises(ProblemsError) as refused:
            ledger.save(user, unit, THIS_MONTH, {code: 3})
        assert [(p.code, p.field) for p in refused.value.problems] == [("not_due", code)]
    assert not LedgerEntry.objects.exists()


def test_a_report_rolls_up_the_grid_items_beside_the_community_ones(tree, users, mixed):
    # Written directly: the ledger's own rules (and its lock of a past month) are tested
    # through ledger.save above and in tests/test_reports.py.
    for (s, c, g), unit in tree.grids.items():
        put(mixed["insured"], LAST_MONTH, 10 * s + c + g, grid=unit)
    for (_s, c), community in tree.communities.items():
        put(mixed["cadres"], LAST_MONTH, 5 + c, region=community)
    table = build_table(mixed["template"], LAST_MONTH, tree.district)
    rows = {row.code: row.values for row in table.rows}
    # Community (1, 1): grids 12 and 13 summed; its own cadres as typed.
    assert rows[tree.communities[(1, 1)].code] == [25, 6]
    assert rows[tree.communities[(2, 2)].code] == [23 + 24, 7]
    assert table.total == [sum(r[0] for r in rows.values()), 6 + 7 + 6 + 7]
    # A grid-row report of the same items: the community's item has no value per grid, and
    # the report says why.
    per_grid = ReportTemplate.objects.create(
        owner=users.department.department,
        code="grid-monthly",
        title="网格月报",
        row_level="grid",
        period_type="month",
        active=False,
    )
    for order, key in enumerate(["insured", "cadres"], 1):
        TemplateColumn.objects.create(template=per_grid, order=order, indicator=mixed[key])
    grids = build_table(per_grid, LAST_MONTH, tree.district)
    assert {row.values[1] for row in grids.rows} == {None}
    assert any("两委班子人数" in note for note in grids.notes)


def test_completeness_expects_each_level_that_types_something(tree, users, mixed):
    template = mixed["template"]
    statuses = completeness.template_completeness(template, THIS_MONTH, tree.district)
    assert sorted({s.unit.level for s in statuses}) == ["community", "grid"]
    assert len(statuses) == len(tree.grids) + len(tree.communities)
    for unit in tree.grids.values():
        put(mixed["insured"], THIS_MONTH, 1, grid=unit)
        ledger.submit(users.admin, unit, THIS_MONTH)
    statuses = completeness.template_completeness(template, THIS_MONTH, tree.district)
    missing = {s.unit.level for s in statuses if not s.submitted}
    assert missing == {"community"}


def test_a_level_with_nothing_to_type_is_not_missing_on_the_map(tree, users, make_indicator):
    cadres = make_indicator("CADRES", name="两委班子人数", level="community")
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="cadres",
        title="社区干部月报",
        row_level="community",
        period_type="month",
    )
    TemplateColumn.objects.create(template=template, order=1, indicator=cadres)
    assert completeness.ledger_completeness(THIS_MONTH, tree.district, "grid") == []
    communities = completeness.ledger_completeness(THIS_MONTH, tree.district, "community")
    assert len(communities) == len(tree.communities)
    assert {s.status for s in communities} == {"missing"}


def test_a_derived_item_shown_per_community_is_computed_per_grid_and_rolled_up(tree, homes, groups):
    per_grid = Indicator.objects.get(code="POP_HOUSEHOLDS")
    per_community = Indicator.objects.create(
        code="HH_COMMUNITY",
        name="社区户数",
        unit="户",
        group=groups["population"],
        value_type="integer",
        aggregation="sum",
        level="community",
        source="derived",
        derivation="households",
    )
    values = Values(tree_under(tree.district, TODAY), THIS_MONTH)
    assert values.at(per_community, "grid") == {}
    communities = {pk: c.value for pk, c in values.at(per_community, "community").items()}
    assert communities == {c.pk: Decimal(2) for c in tree.communities.values()}
    assert {pk: c.value for pk, c in values.at(per_grid, "community").items()} == communities
    assert values.at(per_community, "district")[tree.district.pk].value == len(tree.grids)


def test_a_form_asking_per_community_moves_an_untyped_item_there(tree, users, api, make_indicator):
    make_indicator("STREETLIGHTS", name="路灯数", unit="根", period_type="quarter")
    make_indicator("SHELTERS", name="避难场所数", unit="处", period_type="quarter")
    body = {
        "code": "safety-quarterly",
        "title": "社区安全设施季报",
        "owner": users.department.department.code,
        "row_level": "community",
        "period_type": "quarter",
        "columns": [{"indicator": "STREETLIGHTS"}, {"indicator": "SHELTERS"}],
    }
    # Typed per grid, a quarter-end month's "after" would be twice its "before" here (eight
    # grids against four communities): the burden the issue found.
    quarter_end = Period.containing(
        Period.containing(TODAY, "quarter").previous().last_day, "month"
    )
    response = api(users.department).post("/api/reports/templates/", body, format="json")
    assert response.status_code == 201, response.json()
    assert set(
        Indicator.objects.filter(code__in=["STREETLIGHTS", "SHELTERS"]).values_list(
            "level", flat=True
        )
    ) == {"community"}
    figures = burden.burden(tree.district, quarter_end)
    assert figures["before"] == figures["now"] == 2 * len(tree.communities)
    assert levels.over_collected(tree.district.pk) == []


def test_an_item_already_typed_keeps_its_level_and_is_listed(tree, users, api, mixed):
    ledger.save(users.worker, tree.grids[(1, 1, 1)], THIS_MONTH, {"INSURED": 4})
    assert levels.settle([mixed["insured"]], tree.district.pk) == []
    mixed["insured"].refresh_from_db()
    assert mixed["insured"].level == "grid"
    assert levels.over_collected(tree.district.pk) == [
        {
            "indicator": "INSURED",
            "name": "参保人数",
            "level": "grid",
            "needed": "community",
            "has_values": True,
        }
    ]
    refused = api(users.district).patch(
        "/api/reports/indicators/INSURED/", {"level": "community"}, format="json"
    )
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["field"] == "level" and "INSURED" in error["message"]
    # An item nobody has typed yet changes freely.
    changed = api(users.district).patch(
        "/api/reports/indicators/CADRES/", {"level": "street"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["level"] == "street"


def test_the_values_api_rolls_a_grid_item_up_to_the_level_asked(tree, users, homes, api, groups):
    # `level` here is the rows' level, not a filter on the item's own level.
    response = api(users.district).get(
        "/api/reports/indicators/POP_HOUSEHOLDS/values/",
        {"period": THIS_MONTH.key, "level": "street"},
    )
    assert response.status_code == 200
    assert {row["code"]: row["value"] for row in response.json()["values"]} == {
        street.code: 4 for street in tree.streets.values()
    }
    listed = api(users.district).get("/api/reports/indicators/", {"level": "community"}).json()
    assert "POP_HOUSEHOLDS" not in {i["code"] for i in listed}
