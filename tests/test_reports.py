"""一表通: derived and collected indicators, aggregation up the tree and over time, boundary
versions in reports, the ledger (validation, rules, versions, locking, reopening,
submission), completeness and reminders, burden, generated Excel/CSV, and the API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.gis.geos import Point
from django.db import DatabaseError, transaction
from django.utils import timezone

from grids.models import Household
from grids.problems import ProblemsError
from grids.services import households as household_service
from notifications.models import Notification
from reports.models import (
    Indicator,
    LedgerEntry,
    LedgerRevision,
    LedgerSubmission,
    Reminder,
    ReportRun,
    ReportTemplate,
    TemplateColumn,
    ValidationRule,
)
from reports.periods import Period
from reports.services import burden, completeness, ledger
from reports.services.generate import build_table, generate
from reports.services.indicators import ensure_groups, sync_derived
from reports.services.values import Values, tree_under
from tests.conftest import VALID_FROM
from tests.test_versions import CHANGE, move_edge

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
def items(make_indicator):
    """Collected items of a grid's ledger, and the derived ones they are checked against."""
    return {
        "insured": make_indicator("INSURED", name="参保人数", min_value=0),
        "newborn": make_indicator("NEWBORN", name="新生儿数", time_aggregation="sum"),
        "rate": make_indicator(
            "SIGN_RATE", name="签约率", unit="%", value_type="percentage", aggregation="mean"
        ),
        "leader": make_indicator(
            "LEADER", name="书记兼主任", unit="", value_type="boolean", aggregation="sum"
        ),
        "note": make_indicator(
            "NOTE", name="备注", unit="", value_type="text", aggregation="latest"
        ),
        "estate": make_indicator(
            "ESTATE_TYPE",
            name="小区类型",
            unit="",
            value_type="choice",
            choices=["商品房", "老旧小区"],
            aggregation="none",
        ),
        "cadres": make_indicator("CADRES", name="两委班子人数", level="community"),
        "residents": Indicator.objects.get(code="POP_RESIDENTS"),
        "households": Indicator.objects.get(code="POP_HOUSEHOLDS"),
        "area": Indicator.objects.get(code="AREA_KM2"),
    }


@pytest.fixture
def template(users, items):
    t = ReportTemplate.objects.create(
        owner=users.department.department,
        code="civil-monthly",
        title="民政基础数据月报表",
        row_level="grid",
        period_type="month",
        due_day=5,
        grace_days=3,
    )
    for order, key in enumerate(
        ["households", "residents", "insured", "newborn", "rate", "leader", "note", "estate"], 1
    ):
        TemplateColumn.objects.create(template=t, order=order, indicator=items[key])
    TemplateColumn.objects.create(template=t, order=9, indicator=items["cadres"])
    return t


@pytest.fixture
def rule(items):
    return ValidationRule.objects.create(
        code="insured-le-residents",
        left=items["insured"],
        operator="<=",
        right=items["residents"],
        message="参保人数不能超过居民人数",
    )


def grid(tree, s=1, c=1, g=1):
    return tree.grids[(s, c, g)]


def put(tree, indicator, period: Period, values: dict, *, level="grid"):
    """Entries written directly (the ledger's own rules are tested through ledger.save)."""
    for key, value in values.items():
        unit = {"grid": tree.grids[key]} if level == "grid" else {"region": key}
        LedgerEntry.objects.create(
            indicator=indicator,
            period_type=indicator.period_type,
            period_start=period.start,
            number=value if not isinstance(value, str) else None,
            text=value if isinstance(value, str) else "",
            **unit,
        )


# ---- derived indicators -------------------------------------------------------------------


def test_derived_indicators_are_created_for_every_registered_computation(groups):
    codes = set(Indicator.objects.derived().values_list("code", flat=True))
    assert {"POP_HOUSEHOLDS", "POP_RESIDENTS", "POP_ELDERLY", "AREA_KM2"} <= codes
    # Incidents add theirs from their AppConfig without reports knowing them.
    assert {"GOV_INCIDENTS_REPORTED", "GOV_INCIDENTS_CLOSED", "GOV_VISITS"} <= codes
    assert sync_derived() == []  # idempotent


def test_derived_households_and_area_per_grid_add_up_the_tree(tree, homes, items):
    values = Values(tree_under(tree.district, TODAY), THIS_MONTH)
    per_grid = values.at(items["households"], "grid")
    assert {pk: c.value for pk, c in per_grid.items()} == {g.pk: 1 for g in tree.grids.values()}
    assert values.at(items["households"], "community")[tree.communities[(1, 1)].pk].value == 2
    assert values.at(items["households"], "district")[tree.district.pk].value == 8
    # Area on the spheroid: the 0.1° × 0.1° district at 29.35°N is about 107 km².
    area = values.at(items["area"], "district")[tree.district.pk].value
    assert Decimal(100) < area < Decimal(115)


def test_incident_counts_are_derived_per_grid(tree, incident, groups):
    reported = Indicator.objects.get(code="GOV_INCIDENTS_REPORTED")
    values = Values(tree_under(tree.district, TODAY), THIS_MONTH).at(reported, "grid")
    assert values[incident.grid_id].value == 1
    assert sum(c.value for c in values.values()) == 1
    earlier = Values(tree_under(tree.district, TODAY), LAST_MONTH).at(reported, "grid")
    assert sum(c.value for c in earlier.values()) == 0


# ---- aggregation rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("sum", Decimal(60)),
        ("mean", Decimal(20)),
        ("min", Decimal(10)),
        ("max", Decimal(30)),
        ("count", Decimal(3)),
    ],
)
def test_aggregation_rules_up_the_tree(tree, make_indicator, aggregation, expected):
    indicator = make_indicator("X", aggregation=aggregation)
    put(tree, indicator, LAST_MONTH, {(1, 1, 1): 10, (1, 1, 2): 20, (1, 2, 1): 30})
    values = Values(tree_under(tree.district, TODAY), LAST_MONTH)
    assert values.at(indicator, "street")[tree.streets[1].pk].value == expected
    assert tree.streets[2].pk not in values.at(indicator, "street")  # no value, not zero


def test_weighted_mean_weights_by_another_indicator(tree, make_indicator):
    weight = make_indicator("POP")
    rate = make_indicator(
        "RATE", value_type="percentage", aggregation="weighted_mean", weight=weight
    )
    put(tree, weight, LAST_MONTH, {(1, 1, 1): 100, (1, 1, 2): 300})
    put(tree, rate, LAST_MONTH, {(1, 1, 1): 50, (1, 1, 2): 90})
    values = Values(tree_under(tree.district, TODAY), LAST_MONTH)
    assert values.at(rate, "community")[tree.communities[(1, 1)].pk].value == Decimal(80)


def test_latest_takes_the_most_recent_and_none_stops_at_its_level(tree, items):
    put(tree, items["note"], LAST_MONTH, {(1, 1, 1): "旧", (1, 1, 2): "新"})
    LedgerEntry.objects.filter(text="新").update(updated_at=timezone.now() + dt.timedelta(hours=1))
    put(tree, items["estate"], LAST_MONTH, {(1, 1, 1): "商品房"})
    values = Values(tree_under(tree.district, TODAY), LAST_MONTH)
    assert values.at(items["note"], "community")[tree.communities[(1, 1)].pk].value == "新"
    assert values.at(items["estate"], "grid")[grid(tree).pk].value == "商品房"
    assert values.at(items["estate"], "community") == {}


def test_a_community_figure_is_not_split_among_its_grids(tree, items):
    put(tree, items["cadres"], LAST_MONTH, {tree.communities[(1, 1)]: 7}, level="region")
    values = Values(tree_under(tree.district, TODAY), LAST_MONTH)
    assert values.at(items["cadres"], "grid") == {}
    assert values.at(items["cadres"], "street")[tree.streets[1].pk].value == 7


def test_a_quarter_sums_flows_and_takes_the_last_stock(tree, items):
    quarter = Period.parse("2025-Q3")
    for month, (born, insured) in zip(
        quarter.parts("month"), [(1, 50), (2, 55), (3, 60)], strict=True
    ):
        put(tree, items["newborn"], month, {(1, 1, 1): born})
        put(tree, items["insured"], month, {(1, 1, 1): insured})
    values = Values(tree_under(tree.district, quarter.last_day), quarter)
    assert values.at(items["newborn"], "grid")[grid(tree).pk].value == 6
    assert values.at(items["insured"], "grid")[grid(tree).pk].value == 60


def test_a_monthly_report_takes_the_last_complete_year_of_a_yearly_item(
    tree, users, template, make_indicator
):
    farmland = make_indicator("FARMLAND", name="耕地面积", unit="亩", period_type="year")
    TemplateColumn.objects.create(template=template, order=10, indicator=farmland)
    october = Period.parse("2025-10")
    put(tree, farmland, Period.parse("2024"), {(1, 1, 1): 120})
    put(tree, farmland, Period.parse("2025"), {(1, 1, 1): 130})
    values = Values(tree_under(tree.district, october.last_day), october)
    assert values.at(farmland, "grid")[grid(tree).pk].value == 120
    december = Period.parse("2025-12")
    values = Values(tree_under(tree.district, december.last_day), december)
    assert values.at(farmland, "grid")[grid(tree).pk].value == 130
    needs = completeness.feeding_periods(template, october)
    assert Period.parse("2024") in needs["grid"] and Period.parse("2025") not in needs["grid"]


# ---- boundary versions ---------------------------------------------------------------------


def test_a_report_for_a_date_before_a_redraw_uses_the_boundaries_valid_then(tree, template):
    west, east = grid(tree), grid(tree, 1, 1, 2)
    for x in (105.910, 105.927, 105.940):
        household_service.create_household(
            address=f"户{x}", location=Point(x, 29.32, srid=4326), registered_on=VALID_FROM
        )
    move_edge((west, east), 105.93, CHANGE)  # 105.927 moves from east to west
    community = tree.communities[(1, 1)]
    before = build_table(template, Period.containing(CHANGE, "month").previous(), community)
    after = build_table(template, Period.containing(CHANGE, "month"), community)
    column = [c.indicator.code for c in before.columns].index("POP_HOUSEHOLDS")
    counts = lambda table: {r.code: r.values[column] for r in table.rows}  # noqa: E731
    assert counts(before) == {west.code: 1, east.code: 2}
    assert counts(after) == {west.code: 2, east.code: 1}
    assert before.on < CHANGE <= after.on


# ---- the ledger -------------------------------------------------------------------------


def test_values_are_entered_once_and_resending_writes_nothing(tree, users, template):
    unit = grid(tree)
    saved = ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": "12", "LEADER": "是"})
    assert sorted(saved.changed) == ["INSURED", "LEADER"]
    again = ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": 12, "LEADER": True})
    assert again.changed == [] and sorted(again.unchanged) == ["INSURED", "LEADER"]
    assert LedgerRevision.objects.count() == 2
    ledger.save(users.community, unit, THIS_MONTH, {"INSURED": 13}, versions={"INSURED": 1})
    entry = LedgerEntry.objects.get(indicator__code="INSURED")
    assert (entry.number, entry.version, entry.updated_by) == (13, 2, users.community)
    history = [(r.version, r.previous_number, r.number) for r in ledger.history(unit, THIS_MONTH)]
    assert history[0] == (2, Decimal(12), Decimal(13))


def test_a_value_changed_by_someone_else_is_refused_with_409(tree, users, template):
    unit = grid(tree)
    ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": 12})
    ledger.save(users.community, unit, THIS_MONTH, {"INSURED": 14}, versions={"INSURED": 1})
    with pytest.raises(ProblemsError) as refused:
        ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": 15}, versions={"INSURED": 1})
    assert refused.value.status_code == 409
    assert refused.value.problems[0].field == "INSURED"
    assert LedgerEntry.objects.get().number == 14


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"INSURED": "十二"}, "wrong_type", "INSURED"),
        ({"INSURED": "12.5"}, "wrong_type", "INSURED"),
        ({"INSURED": -1}, "out_of_range", "INSURED"),
        ({"SIGN_RATE": "120%"}, "out_of_range", "SIGN_RATE"),
        ({"LEADER": "也许"}, "wrong_type", "LEADER"),
        ({"ESTATE_TYPE": "别墅"}, "wrong_type", "ESTATE_TYPE"),
        ({"POP_RESIDENTS": 5}, "not_due", "POP_RESIDENTS"),
        ({"CADRES": 5}, "not_due", "CADRES"),
    ],
)
def test_bad_values_name_the_field_and_nothing_is_saved(tree, users, template, values, code, field):
    with pytest.raises(ProblemsError) as refused:
        ledger.save(users.worker, grid(tree), THIS_MONTH, {"NEWBORN": 1, **values})
    assert [(p.code, p.field) for p in refused.value.problems] == [(code, field)]
    assert not LedgerEntry.objects.exists()


def test_rules_between_indicators_refuse_errors_and_pass_warnings(
    tree, users, template, rule, homes, items
):
    unit = grid(tree)
    Household.objects.filter(grid=unit).update(member_count=3)
    with pytest.raises(ProblemsError) as refused:
        ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": 4})
    problem = refused.value.problems[0]
    assert (problem.code, problem.field) == ("rule_broken", "INSURED")
    assert (
        "参保人数不能超过居民人数" in problem.message and "insured-le-residents" in problem.message
    )
    assert not LedgerEntry.objects.exists()
    rule.severity = ValidationRule.Severity.WARNING
    rule.save()
    saved = ledger.save(users.worker, unit, THIS_MONTH, {"INSURED": 4})
    assert saved.changed == ["INSURED"] and saved.warnings[0].code == "rule_broken"


def test_only_the_units_own_staff_enter_values(tree, users, template):
    with pytest.raises(ProblemsError) as refused:
        ledger.save(users.other_worker, grid(tree), THIS_MONTH, {"INSURED": 1})
    assert refused.value.status_code == 403
    with pytest.raises(ProblemsError):
        ledger.save(users.street, grid(tree), THIS_MONTH, {"INSURED": 1})


def test_a_period_locks_after_due_date_and_grace_and_a_higher_level_reopens_it(
    tree, users, template
):
    unit = grid(tree)
    old = THIS_MONTH.shifted(-2)  # due on the 5th of last month, locked since the 9th
    assert ledger.lock_date(unit, old) <= TODAY and ledger.is_locked(unit, old)
    with pytest.raises(ProblemsError) as refused:
        ledger.save(users.worker, unit, old, {"INSURED": 1})
    assert refused.value.status_code == 409 and refused.value.problems[0].code == "period_locked"
    with pytest.raises(ProblemsError) as not_higher:
        ledger.reopen(users.worker, unit, old, until=TODAY, reason="补录")
    assert not_higher.value.status_code == 403
    ledger.reopen(users.community, unit, old, until=TODAY + dt.timedelta(days=2), reason="补录")
    assert not ledger.is_locked(unit, old)
    ledger.save(users.worker, unit, old, {"INSURED": 1})
    assert ledger.is_locked(unit, old, on=TODAY + dt.timedelta(days=3))


def test_submitting_needs_every_due_value_and_keeps_the_first_time(tree, users, template):
    unit = grid(tree)
    with pytest.raises(ProblemsError) as refused:
        ledger.submit(users.worker, unit, THIS_MONTH)
    missing = {p.field for p in refused.value.problems}
    assert missing == {"INSURED", "NEWBORN", "SIGN_RATE", "LEADER", "NOTE", "ESTATE_TYPE"}
    ledger.save(
        users.worker,
        unit,
        THIS_MONTH,
        {
            "INSURED": 1,
            "NEWBORN": 0,
            "SIGN_RATE": 50,
            "LEADER": "否",
            "NOTE": "无",
            "ESTATE_TYPE": "商品房",
        },
    )
    first = ledger.submit(users.worker, unit, THIS_MONTH)
    assert ledger.submit(users.worker, unit, THIS_MONTH).submitted_at == first.submitted_at
    assert LedgerSubmission.objects.count() == 1


def test_revisions_are_append_only_in_the_database(tree, users, template):
    ledger.save(users.worker, grid(tree), THIS_MONTH, {"INSURED": 1})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerRevision.objects.update(number=2)


def test_the_sheet_prefills_last_period_and_shows_derived_values(tree, users, template, homes):
    unit = grid(tree)
    put(tree, Indicator.objects.get(code="INSURED"), LAST_MONTH, {(1, 1, 1): 9})
    sheet = ledger.sheet(unit, THIS_MONTH)
    by_code = {item.indicator.code: item for item in sheet["items"]}
    assert set(by_code) == {"INSURED", "NEWBORN", "SIGN_RATE", "LEADER", "NOTE", "ESTATE_TYPE"}
    assert by_code["INSURED"].previous == 9 and by_code["INSURED"].value is None
    assert [t.code for t in by_code["INSURED"].templates] == ["civil-monthly"]
    assert dict((i.code, v) for i, v in sheet["derived"])["POP_HOUSEHOLDS"] == 1


# ---- generated reports --------------------------------------------------------------------


def test_generate_fills_the_template_and_logs_it(tree, users, template, homes):
    put(tree, Indicator.objects.get(code="INSURED"), LAST_MONTH, {(1, 1, 1): 9, (1, 1, 2): 4})
    table, content = generate(
        template, LAST_MONTH, tree.communities[(1, 1)], user=users.community, format="xlsx"
    )
    assert [r.name for r in table.rows] == ["网格111", "网格112"]
    insured = [c.indicator.code for c in table.columns].index("INSURED")
    assert [r.values[insured] for r in table.rows] == [9, 4] and table.total[insured] == 13
    assert any("两委班子人数" in note for note in table.notes)  # community figure, grid rows
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == "民政基础数据月报表"
    assert sheet.cell(3, 3 + insured).value.startswith("参保人数")
    assert sheet.cell(4, 3 + insured).value == 9 and sheet.cell(6, 1).value == "合计"
    run = ReportRun.objects.get()
    assert (run.rows, run.format, run.by) == (2, "xlsx", users.community)
    _, csv = generate(template, LAST_MONTH, tree.district, format="csv")
    assert csv.decode("utf-8-sig").splitlines()[0].startswith("序号,网格编码,网格")


def test_a_template_using_a_retired_indicator_is_refused_naming_the_column(tree, template, items):
    items["newborn"].retired_on = TODAY - dt.timedelta(days=60)
    items["newborn"].save()
    with pytest.raises(ProblemsError) as refused:
        generate(template, THIS_MONTH, tree.district)
    assert [(p.code, p.field) for p in refused.value.problems] == [
        ("retired_indicator", "columns.4")
    ]
    assert not ReportRun.objects.exists()


def test_a_shorter_period_than_the_template_is_refused(tree, template):
    template.period_type = "quarter"
    template.save()
    with pytest.raises(ProblemsError) as refused:
        build_table(template, LAST_MONTH, tree.district)
    assert refused.value.problems[0].code == "wrong_period"


# ---- completeness and reminders --------------------------------------------------------------


def fill(users, unit, period):
    values = {
        "INSURED": 1,
        "NEWBORN": 0,
        "SIGN_RATE": 50,
        "LEADER": "否",
        "NOTE": "无",
        "ESTATE_TYPE": "商品房",
    }
    ledger.save(
        users.worker if unit.pk == users.worker.grid_id else users.admin, unit, period, values
    )
    return ledger.submit(users.admin, unit, period)


def test_completeness_counts_on_time_late_and_missing(tree, users, template):
    period = THIS_MONTH
    fill(users, grid(tree), period)
    late = fill(users, grid(tree, 1, 1, 2), period)
    late.submitted_at = timezone.make_aware(
        dt.datetime.combine(template.due_date(period), dt.time()) + dt.timedelta(days=2)
    )
    late.save()
    statuses = completeness.template_completeness(template, period, tree.communities[(1, 1)])
    assert {s.unit.code: s.status for s in statuses} == {
        grid(tree).code: "on_time",
        grid(tree, 1, 1, 2).code: "late",
        tree.communities[(1, 1)].code: "missing",  # two-committee size is a community item
    }
    assert completeness.summary(statuses) | {} == {
        "expected": 3,
        "submitted": 2,
        "on_time": 1,
        "reporting_rate": 0.6667,
        "on_time_rate": 0.3333,
    }


def test_a_quarterly_template_needs_every_monthly_ledger_of_the_quarter(tree, users, template):
    template.period_type = "quarter"
    template.save()
    quarter = Period.containing(THIS_MONTH.start, "quarter").previous()
    unit = grid(tree)
    for month in quarter.parts("month")[:2]:
        LedgerSubmission.objects.create(grid=unit, period_type="month", period_start=month.start)
    status = lambda: {  # noqa: E731
        s.unit.pk: s.submitted
        for s in completeness.template_completeness(template, quarter, tree.district)
    }
    assert status()[unit.pk] is False
    LedgerSubmission.objects.create(
        grid=unit, period_type="month", period_start=quarter.parts("month")[2].start
    )
    assert status()[unit.pk] is True


def test_reminders_go_before_the_due_date_and_once_when_overdue(tree, users, template):
    period = LAST_MONTH
    due = template.due_date(period)
    # On the first day after the period the due date is still more than 3 days away.
    assert completeness.remind(period.end) == {"before": 0, "overdue": 0}
    sent = completeness.remind(due - dt.timedelta(days=2))
    assert sent["before"] == 12  # eight grids, and four communities for their own item
    mine = Notification.objects.filter(user=users.worker)
    assert mine.count() == 1 and "到期" in mine.get().title
    assert completeness.remind(due - dt.timedelta(days=1)) == {"before": 0, "overdue": 0}
    LedgerSubmission.objects.create(
        grid=grid(tree, 2, 2, 2), period_type="month", period_start=period.start
    )
    assert completeness.remind(due + dt.timedelta(days=1))["overdue"] == 11
    assert Notification.objects.filter(user=users.worker, kind="ledger_overdue").count() == 1
    assert not Notification.objects.filter(user=users.other_worker, kind="ledger_overdue").exists()
    assert Reminder.objects.filter(kind="overdue").count() == 11


# ---- burden -------------------------------------------------------------------------------


def test_burden_counts_cells_before_and_unique_collected_values_now(tree, users, template, items):
    second = ReportTemplate.objects.create(
        owner=users.department.department,
        code="health",
        title="卫健月报",
        row_level="grid",
        period_type="month",
    )
    for order, key in enumerate(["households", "residents", "insured"], 1):
        TemplateColumn.objects.create(template=second, order=order, indicator=items[key])
    yearly = ReportTemplate.objects.create(
        owner=users.department.department,
        code="yearly",
        title="年报",
        row_level="community",
        period_type="year",
    )
    TemplateColumn.objects.create(template=yearly, order=1, indicator=items["insured"])
    figures = burden.burden(tree.district, Period.parse("2025-11"))
    # before: 8 grids × 9 columns + 8 grids × 3 columns;
    # now: 6 grid items × 8 grids + 1 community item × 4 communities
    assert (figures["before"], figures["now"]) == (96, 52)
    assert figures["before_per_grid"] == 12.0 and figures["reduction"] == pytest.approx(
        1 - 52 / 96, abs=1e-4
    )
    shared = {row["indicator"]: row["templates"] for row in figures["shared"]}
    assert shared["INSURED"] == 3 and shared["POP_RESIDENTS"] == 2
    assert [c["indicator"] for c in figures["conflicting_periods"]] == ["INSURED"]
    december = burden.burden(tree.district, Period.parse("2025-12"))
    assert december["before"] == 96 + 4


# ---- API ------------------------------------------------------------------------------


def test_ledger_api_round_trip_and_scoping(tree, users, template, api):
    client = api(users.worker)
    unit = grid(tree)
    sheet = client.get("/api/reports/ledger/", {"unit": unit.code, "period": THIS_MONTH.key})
    assert sheet.status_code == 200 and {i["indicator"] for i in sheet.json()["items"]} >= {
        "INSURED"
    }
    saved = client.post(
        "/api/reports/ledger/",
        {
            "unit": unit.code,
            "period": THIS_MONTH.key,
            "values": {"INSURED": "3"},
            "versions": {"INSURED": 0},
        },
        format="json",
    )
    assert saved.status_code == 200 and saved.json()["versions"] == {"INSURED": 1}
    bad = client.post(
        "/api/reports/ledger/",
        {"unit": unit.code, "period": THIS_MONTH.key, "values": {"INSURED": "x"}},
        format="json",
    )
    assert bad.status_code == 400
    error = bad.json()["errors"][0]
    assert (error["code"], error["field"]) == ("wrong_type", "INSURED")
    other = client.get(
        "/api/reports/ledger/", {"unit": grid(tree, 2, 2, 2).code, "period": THIS_MONTH.key}
    )
    assert other.status_code == 404
    wrong_period = client.get("/api/reports/ledger/", {"unit": unit.code, "period": "2026-13"})
    assert wrong_period.status_code == 400 and wrong_period.json()["errors"][0]["field"] == "period"


def test_generate_api_answers_xlsx_and_refuses_grid_workers(tree, users, template, api):
    response = api(users.street).get(
        f"/api/reports/templates/{template.code}/generate/",
        {"period": LAST_MONTH.key, "region": tree.streets[1].code, "output": "xlsx"},
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).active["A1"].value == template.title
    other_street = api(users.street).get(
        f"/api/reports/templates/{template.code}/generate/", {"region": tree.streets[2].code}
    )
    assert other_street.status_code == 404
    assert (
        api(users.worker).get(f"/api/reports/templates/{template.code}/generate/").status_code
        == 403
    )


def test_values_api_is_a_choropleth_per_grid_scoped_to_the_user(tree, users, template, homes, api):
    response = api(users.community).get(
        "/api/reports/indicators/POP_HOUSEHOLDS/values/",
        {"period": THIS_MONTH.key, "level": "grid"},
    )
    assert response.status_code == 200
    assert {row["code"]: row["value"] for row in response.json()["values"]} == {
        grid(tree).code: 1,
        grid(tree, 1, 1, 2).code: 1,
    }
    trend = api(users.community).get(
        "/api/reports/indicators/POP_HOUSEHOLDS/trend/",
        {"unit": grid(tree).code, "periods": 3, "end": THIS_MONTH.key},
    )
    # The households were registered today: none in the months before.
    assert [p["value"] for p in trend.json()["points"]] == [0, 0, 1]


def test_template_api_refuses_a_retired_indicator_and_another_departments_template(
    tree, users, items, api
):
    items["newborn"].retired_on = TODAY
    items["newborn"].save()
    body = {
        "code": "new-form",
        "title": "新表",
        "owner": "civil-affairs",
        "row_level": "grid",
        "period_type": "month",
        "columns": [{"indicator": "INSURED", "heading": "参保"}, {"indicator": "NEWBORN"}],
    }
    refused = api(users.department).post("/api/reports/templates/", body, format="json")
    assert refused.status_code == 400
    assert (
        refused.json()["errors"][0]["field"] == "columns"
        and "NEWBORN" in refused.json()["errors"][0]["message"]
    )
    body["columns"].pop()
    assert (
        api(users.department).post("/api/reports/templates/", body, format="json").status_code
        == 201
    )
    assert (
        api(users.worker)
        .post("/api/reports/templates/", body | {"code": "x"}, format="json")
        .status_code
        == 403
    )


def test_list_endpoints_have_pinned_query_counts(
    tree, users, template, api, django_assert_max_num_queries
):
    client = api(users.district)
    with django_assert_max_num_queries(4):
        assert client.get("/api/reports/indicators/").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/api/reports/templates/").status_code == 200
    for n in range(5):
        ReportTemplate.objects.create(
            owner=users.department.department, code=f"t{n}", title=f"表{n}", period_type="month"
        )
    with django_assert_max_num_queries(5):
        assert client.get("/api/reports/templates/").status_code == 200


def test_burden_and_completeness_apis(tree, users, template, api):
    burden_data = api(users.district).get("/api/reports/burden/", {"month": "2025-11"}).json()
    assert burden_data["before"] == 72 and burden_data["now"] == 6 * 8 + 4
    assert len(burden_data["year"]["months"]) == 12
    data = api(users.district).get("/api/reports/completeness/", {"period": THIS_MONTH.key}).json()
    assert data["expected"] == 8 and data["submitted"] == 0
    assert data["templates"][0]["template"] == "civil-monthly"
