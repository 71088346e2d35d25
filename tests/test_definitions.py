"""Indicators defined as data (issue #17): every operator, stocks vs flows, age at the
period's last day, past boundaries, tags with levels, hierarchical codes, distinct and sum
measures, validation problems naming the field, one statement per definition and period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from boundary_apply_helpers import at
from django.utils import timezone

from grids.models import Address, Grid, Household, Resident, ResidentTagKind, Unit, UnitType, today
from incidents.models import Category, Incident
from incidents.services import Report, report_incident
from reports import definitions, subjects
from reports.derived import Context
from reports.periods import Period
from tests.conftest import centre_of
from tests.test_boundary_past import BEFORE, NOW, D, merged  # noqa: F401

SINCE = dt.date(2020, 1, 1)
THIS_MONTH = Period.containing(today(), "month")
# A past month ending on 30 June 2025: its last day decides ages and stocks.
JUNE = Period(dt.date(2025, 6, 1), "month")


def born(years: int, on: dt.date = JUNE.last_day, days: int = 0) -> dt.date:
    """The birth date of someone exactly `years` old on `on`, moved `days` later."""
    return on.replace(year=on.year - years) + dt.timedelta(days=days)


@pytest.fixture
def catalogues(db):
    """The tag kinds and unit types the tests name (a transactional test's flush empties
    what the migration seeded)."""
    ResidentTagKind.objects.get_or_create(
        code="disabled", defaults={"name": "残疾人", "group": "care", "levels": ["一级", "二级"]}
    )
    for code, name in (("low_income", "低保对象"), ("elderly", "老年人"), ("veteran", "退役军人")):
        ResidentTagKind.objects.get_or_create(code=code, defaults={"name": name, "group": "care"})
    enterprise, _ = UnitType.objects.get_or_create(code="enterprise", defaults={"name": "企业"})
    UnitType.objects.get_or_create(
        code="state_owned", defaults={"name": "国有企业", "parent": enterprise}
    )
    UnitType.objects.get_or_create(code="shop", defaults={"name": "商铺"})


@pytest.fixture
def people(tree, add_household, catalogues):
    """Grid A (1,1,1): household 1 with an 80-year-old (disabled 一级, low income), a
    79-year-old (disabled 二级), and a child; household 2 with a floating 30-year-old on
    low income. Grid B (2,2,2): household 3 with a 65-year-old veteran, removed on 15 June."""
    a, b = tree.grids[(1, 1, 1)], tree.grids[(2, 2, 2)]

    def home(grid, members, **kwargs):
        household = add_household(centre_of(grid), registered_on=SINCE, **kwargs)
        Household.objects.filter(pk=household.pk).update(member_count=members)
        return household

    h1, h2 = home(a, 3), home(a, 1)
    h3 = home(b, 1)
    Household.objects.filter(pk=h3.pk).update(removed_on=dt.date(2025, 6, 15))

    def person(household, birth, **fields):
        fields.setdefault("sex", "F")
        return Resident.objects.create(
            household=household, name="张三", id_number="1" * 18, birth_date=birth, **fields
        )

    person(
        h1,
        born(80),
        tags=["disabled", "low_income"],
        tag_levels={"disabled": "一级"},
        relation="head",
    )
    person(h1, born(80, days=1), tags=["disabled"], tag_levels={"disabled": "二级"}, sex="M")
    person(h1, born(6), relation="grandchild")
    person(
        h2,
        born(30),
        registration="floating",
        tags=["low_income"],
        residence_since=dt.date(2025, 6, 10),
        origin="四川省",
    )
    person(h3, born(65), tags=["veteran"], sex="M")
    return {"a": a.pk, "b": b.pk, "households": (h1, h2, h3)}


def value(definition: dict, period: Period = JUNE, grid_ids=None) -> dict[int, int]:
    assert definitions.validate(definition) == []
    if grid_ids is None:
        on = min(period.last_day, today())
        grid_ids = list(Grid.objects.valid_on(on).values_list("pk", flat=True))
    result = definitions.compute(definition, Context(period, grid_ids))
    return {pk: int(v) for pk, v in result.items() if v}


def residents(*where, measure="count", time="stock") -> dict:
    return {"subject": "residents", "where": list(where), "measure": measure, "time": time}


def cond(field: str, op: str, value=None, **extra) -> dict:
    item = {"field": field, "op": op, **extra}
    if value is not None:
        item["value"] = value
    return item


# ---- operators ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "in_a"),
    [
        (cond("age", ">=", 80), 1),
        (cond("age", ">", 79), 1),
        (cond("age", "<", 80), 3),
        (cond("age", "<=", 79), 3),
        (cond("age", "=", 79), 1),
        (cond("age", "!=", 79), 3),
        (cond("age", "between", [0, 14]), 1),
        (cond("age", "in", [6, 30]), 2),
        (cond("age", "not_in", [6, 30]), 2),
        (cond("sex", "=", "M"), 1),
        (cond("sex", "!=", "M"), 3),
        (cond("registration", "in", ["floating", "overseas"]), 1),
        (cond("registration", "not_in", ["floating"]), 3),
        (cond("tags", "has", "low_income"), 2),
        (cond("tags", "has_any", ["disabled", "veteran"]), 2),
        (cond("tags", "is_null"), 1),
        (cond("tags", "not_null"), 3),
        (cond("residence_since", "is_null"), 3),
        (cond("residence_since", "not_null"), 1),
        (cond("residence_since", ">=", "2025-06-10"), 1),
        (cond("residence_since", "<", "2025-06-10"), 0),
        (cond("origin", "=", "四川省"), 1),
        (cond("origin", "is_null"), 3),
        (cond("origin", "not_null"), 1),
        (cond("relation", "=", "head"), 1),
        (cond("birth_date", "between", ["1900-01-01", "1950-01-01"]), 2),
        ({"any": [cond("age", ">=", 80), cond("registration", "=", "floating")]}, 2),
    ],
)
def test_every_operator_filters_the_residents(people, condition, in_a):
    assert value(residents(condition)).get(people["a"], 0) == in_a


def test_conditions_are_anded_and_any_groups_ored(people):
    both = residents(cond("tags", "has", "disabled"), cond("age", ">=", 80))
    assert value(both) == {people["a"]: 1}
    either = residents(
        {"any": [cond("tags", "has", "veteran"), cond("registration", "=", "floating")]}
    )
    # The veteran's household was removed on 15 June: not in the stock of the 30th.
    assert value(either) == {people["a"]: 1}


# ---- age at the period's last day ------------------------------------------------------


def test_age_is_whole_years_on_the_periods_last_day(people):
    eighty = residents(cond("age", ">=", 80))
    # The 79-year-old turns 80 on 1 July: counted in July, not in June.
    assert value(eighty, JUNE) == {people["a"]: 1}
    assert value(eighty, JUNE.shifted(1)) == {people["a"]: 2}
    # In May both were 79.
    assert value(eighty, JUNE.shifted(-1)) == {}


def test_age_on_29_february():
    lookup = subjects.age_lookup("birth_date")
    q = lookup(">=", 1, dt.date(2025, 2, 28))
    # Born 29 February 2024: one year old on 1 March 2025, not on the 28th.
    assert q.children == [("birth_date__lte", dt.date(2024, 2, 28))]


# ---- stocks vs flows ---------------------------------------------------------------------


def test_stock_is_what_exists_at_the_end_and_a_flow_what_happened_in_the_period(people):
    stock = {"subject": "households", "where": [], "measure": "count", "time": "stock"}
    assert value(stock) == {people["a"]: 2}  # household 3 was removed on 15 June
    assert value(stock, JUNE.shifted(-1)) == {people["a"]: 2, people["b"]: 1}
    removed = dict(stock, time={"within": "removed_on"})
    assert value(removed) == {people["b"]: 1}
    assert value(removed, JUNE.shifted(-1)) == {}
    arrived = residents(time={"within": "residence_since"})
    assert value(arrived) == {people["a"]: 1}
    assert value(arrived, JUNE.shifted(1)) == {}


def test_a_quarter_reads_the_stock_on_its_last_day(people):
    stock = {"subject": "households", "time": "stock"}
    assert value(stock, Period(dt.date(2025, 4, 1), "quarter")) == {people["a"]: 2}
    assert value(stock, Period(dt.date(2025, 1, 1), "quarter")) == {
        people["a"]: 2,
        people["b"]: 1,
    }


# ---- measures ----------------------------------------------------------------------------


def test_distinct_households_and_sums(people):
    low_income_households = residents(
        cond("tags", "has", "low_income"), measure={"distinct": "household"}
    )
    assert value(low_income_households) == {people["a"]: 2}
    one_household = residents(cond("tags", "has", "disabled"), measure={"distinct": "household"})
    assert value(one_household) == {people["a"]: 1}
    members = {"subject": "households", "measure": {"sum": "member_count"}, "time": "stock"}
    assert value(members) == {people["a"]: 4}


def test_every_grid_has_a_value_zero_when_nothing_counts(people, tree):
    grid_ids = [g.pk for g in tree.grids.values()]
    result = definitions.compute(residents(cond("age", ">=", 120)), Context(JUNE, grid_ids))
    assert result == {pk: Decimal(0) for pk in grid_ids}


# ---- tags with levels ----------------------------------------------------------------------


def test_a_tag_with_a_level(people):
    assert value(residents(cond("tags", "has", "disabled", level="一级"))) == {people["a"]: 1}
    assert value(residents(cond("tags", "has", "disabled", level="二级"))) == {people["a"]: 1}
    assert value(residents(cond("tags", "has", "disabled"))) == {people["a"]: 2}


# ---- hierarchical codes ------------------------------------------------------------------


@pytest.fixture
def units(tree, catalogues):
    grid = tree.grids[(1, 1, 1)]
    made = []
    for name, code, employees in (
        ("国企", "state_owned", 100),
        ("企业", "enterprise", 20),
        ("小店", "shop", 2),
    ):
        made.append(
            Unit.objects.create(
                name=name,
                type=UnitType.objects.get(code=code),
                employees=employees,
                location=centre_of(grid),
                grid=grid,
                registered_on=SINCE,
            )
        )
    return grid.pk


def test_a_parent_code_matches_its_children(units):
    def count(*where, measure="count"):
        return value({"subject": "units", "where": list(where), "measure": measure}, THIS_MONTH)

    assert count(cond("type", "=", "enterprise")) == {units: 2}
    assert count(cond("type", "=", "state_owned")) == {units: 1}
    assert count(cond("type", "!=", "enterprise")) == {units: 1}
    assert count(cond("type", "in", ["state_owned", "shop"])) == {units: 2}
    assert count(cond("type", "not_in", ["enterprise"])) == {units: 1}
    assert count(measure={"sum": "employees"}) == {units: 122}
    assert count(cond("employees", ">", 10)) == {units: 2}


@pytest.fixture
def hazards(tree, users):
    """安全隐患 06 with a class under it; two hazards reported in June, one closed in July."""
    top, _ = Category.objects.get_or_create(code="06", defaults={"name": "安全隐患"})
    Category.objects.get_or_create(code="060101", defaults={"name": "消防通道堵塞", "parent": top})
    Category.objects.get_or_create(code="070101", defaults={"name": "邻里纠纷"})
    made = []
    for code, day in (("060101", 5), ("06", 20), ("070101", 21)):
        found, _ = report_incident(
            Report(title=code, category=code, source="patrol", location=at(105.91)),
            user=users.admin,
        )
        reported = timezone.make_aware(dt.datetime(2025, 6, day, 10))
        Incident.objects.filter(pk=found.pk).update(reported_at=reported)
        made.append(found)
    Incident.objects.filter(pk=made[0].pk).update(
        status="closed",
        handler_level="grid",
        closed_at=timezone.make_aware(dt.datetime(2025, 7, 2, 9)),
    )
    return made[0].grid_id


def test_incidents_found_and_fixed_in_the_period_and_open_at_its_end(hazards):
    hazard = cond("category", "=", "06")
    found = {"subject": "incidents", "where": [hazard], "time": {"within": "reported_at"}}
    fixed = {
        "subject": "incidents",
        "where": [hazard, cond("status", "in", ["closed", "assessed"])],
        "time": {"within": "closed_at"},
    }
    assert value(found) == {hazards: 2}
    assert value(fixed) == {}
    assert value(fixed, JUNE.shifted(1)) == {hazards: 1}
    open_hazards = {"subject": "incidents", "where": [hazard], "time": "stock"}
    assert value(open_hazards) == {hazards: 2}  # both open on 30 June
    assert value(open_hazards, JUNE.shifted(1)) == {hazards: 1}
    on_time = {
        "subject": "incidents",
        "where": [cond("on_time", "=", True)],
        "time": {"within": "closed_at"},
    }
    assert value(on_time, JUNE.shifted(1)) == {hazards: 1}
    day = {"subject": "incidents", "where": [cond("reported_at", "=", "2025-06-05")]}
    assert value(dict(day, time={"within": "reported_at"})) == {hazards: 1}


def test_an_incident_counts_in_one_grid_whichever_grids_are_asked(hazards, tree):
    """Found in review: the grid an incident counted in depended on the grids asked for (its
    reported grid only when among them), so a street's report, or a snapshot computed for
    the grids not kept yet, put it in its new grid while the district's put it in the old."""
    other = next(g.pk for g in tree.grids.values() if g.pk != hazards)
    moved = Incident.objects.filter(grid_id=hazards, category__code="060101").get()
    # As a boundary change re-keys an open incident: its grid now, and where it was reported.
    Incident.objects.filter(pk=moved.pk).update(grid_id=other, reported_grid_id=hazards)
    found = {
        "subject": "incidents",
        "where": [cond("category", "=", "060101")],
        "time": {"within": "reported_at"},
    }
    everywhere = [g.pk for g in tree.grids.values()]
    assert value(found, JUNE, everywhere) == {hazards: 1}
    assert value(found, JUNE, [other]) == {}
    assert value(found, JUNE, [hazards]) == {hazards: 1}


def test_the_code_registered_incident_count_also_counts_in_one_grid_whichever_grids_are_asked(
    hazards, tree
):
    """Review R1, F3: GOV_INCIDENTS_REPORTED (incidents/indicators.py) had the same bug."""
    from reports import derived

    incidents_reported = derived.get("incidents_reported").compute
    other = next(g.pk for g in tree.grids.values() if g.pk != hazards)
    moved = Incident.objects.filter(grid_id=hazards, category__code="060101").get()
    Incident.objects.filter(pk=moved.pk).update(grid_id=other, reported_grid_id=hazards)
    everywhere = [g.pk for g in tree.grids.values()]
    assert incidents_reported(Context(JUNE, everywhere)) == {hazards: 3}
    assert incidents_reported(Context(JUNE, [other])) == {}
    assert incidents_reported(Context(JUNE, [hazards])) == {hazards: 3}


# ---- past boundaries ---------------------------------------------------------------------


def test_a_household_moved_by_a_boundary_change_counts_in_its_old_grid_before_it(merged):  # noqa: F811
    west, east = merged
    households = {"subject": "households", "time": "stock"}
    before = value(households, BEFORE)
    assert before == {west.pk: 1, east.pk: 2}
    assert value(households, NOW) == {west.pk: 3}
    members = dict(households, measure={"sum": "member_count"})
    assert value(members, BEFORE) == {west.pk: 4, east.pk: 5}
    # The incident reported in the east grid before the change stays there.
    reported = {"subject": "incidents", "time": {"within": "reported_at"}}
    assert value(reported, BEFORE) == {east.pk: 1}
    assert BEFORE.last_day < D


# ---- one statement per definition and period ---------------------------------------------


@pytest.mark.parametrize(
    "definition",
    [
        residents(cond("age", ">=", 80), cond("tags", "has", "disabled", level="一级")),
        residents(cond("tags", "has", "low_income"), measure={"distinct": "household"}),
        {"subject": "households", "measure": {"sum": "member_count"}, "time": "stock"},
        {"subject": "units", "where": [cond("type", "=", "enterprise")]},
        {
            "subject": "incidents",
            "where": [cond("category", "in", ["06", "07"])],
            "time": {"within": "closed_at"},
        },
        {"subject": "grids"},
        {"subject": "grid_workers"},
    ],
)
@pytest.mark.parametrize("period", [JUNE, THIS_MONTH])
def test_one_statement_per_definition_and_period(
    people, django_assert_num_queries, definition, period
):
    grid_ids = list(Grid.objects.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        definitions.compute(definition, Context(period, grid_ids))


def test_standard_addresses_created_by_the_day(tree):
    grid = tree.grids[(1, 1, 1)]
    Address.objects.create(text="测试路1号", road="测试路", number="1号", grid=grid)
    made = Address.objects.create(text="测试路1号2栋", road="测试路", building_no="2栋", grid=grid)
    Address.objects.filter(pk=made.pk).update(
        created_at=timezone.make_aware(dt.datetime(2025, 6, 3, 9))
    )
    addresses = {"subject": "addresses", "time": "stock"}
    assert value(addresses, THIS_MONTH) == {grid.pk: 2}
    assert value(addresses, JUNE) == {grid.pk: 1}
    assert value(dict(addresses, time={"within": "created_at"}), JUNE) == {grid.pk: 1}
    with_building = dict(addresses, where=[cond("building_no", "not_null")])
    assert value(with_building, THIS_MONTH) == {grid.pk: 1}  # a blank text is not filled in
    assert value(dict(addresses, where=[cond("building_no", "=", "2栋")]), THIS_MONTH) == {
        grid.pk: 1
    }


def test_grids_and_grid_workers(tree, users):
    assert value({"subject": "grids"}, THIS_MONTH) == {g.pk: 1 for g in tree.grids.values()}
    assert value({"subject": "grid_workers"}, THIS_MONTH) == {
        tree.grids[(1, 1, 1)].pk: 1,
        tree.grids[(2, 2, 2)].pk: 1,
    }


# ---- validation ----------------------------------------------------------------------------


def problems(definition) -> dict[str, str]:
    return {p.field: p.code for p in definitions.validate(definition)}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("residents", {"definition": "not_an_object"}),
        ({"subject": "aliens"}, {"subject": "unknown_subject"}),
        ({"subject": "residents", "colour": 1}, {"colour": "unknown_key"}),
        (residents(cond("height", ">", 2)), {"where.0.field": "unknown_field"}),
        (residents(cond("age", "has", 2)), {"where.0.op": "bad_op"}),
        (residents(cond("age", ">=", "eighty")), {"where.0.value": "not_a_number"}),
        (residents(cond("age", ">=", 80.5)), {"where.0.value": "bad_number"}),
        (residents(cond("age", "between", [80, 60])), {"where.0.value": "empty_range"}),
        (residents(cond("age", "between", [60])), {"where.0.value": "not_a_range"}),
        (residents(cond("age", "in", [])), {"where.0.value": "not_a_list"}),
        (residents(cond("age", ">=")), {"where.0.value": "missing"}),
        (residents(cond("sex", "=", "X")), {"where.0.value": "unknown_code"}),
        (residents(cond("tags", "has", "alien")), {"where.0.value": "unknown_code"}),
        (
            residents(cond("tags", "has", "disabled", level="九级")),
            {"where.0.level": "unknown_level"},
        ),
        (residents(cond("age", ">=", 1, level="一级")), {"where.0.level": "unknown_key"}),
        (residents(cond("residence_since", ">", "yesterday")), {"where.0.value": "not_a_date"}),
        (residents({"any": [cond("age", ">=", 1)]}), {"where.0.any": "any_too_short"}),
        (
            residents({"any": [cond("age", ">=", 1), cond("sex", "=", 1)]}),
            {"where.0.any.1.value": "not_a_text"},
        ),
        (residents("age"), {"where.0": "not_an_object"}),
        (residents(measure={"sum": "age"}), {"measure.sum": "bad_measure"}),
        (residents(measure={"distinct": "sex"}), {"measure.distinct": "bad_measure"}),
        (residents(measure="average"), {"measure": "bad_measure"}),
        (residents(time={"within": "age"}), {"time.within": "bad_time"}),
        (residents(time="flow"), {"time": "bad_time"}),
        ({"subject": "visits", "time": "stock"}, {"time": "not_a_stock"}),
        # Found in review: these answered 500 (an unhashable tag, an infinite age, a day
        # whose next day is past what a date holds).
        (
            residents(cond("tags", "has", ["disabled"], level="一级")),
            {"where.0.value": "not_a_text"},
        ),
        (
            residents(cond("tags", "has", {"a": 1}, level="一级")),
            {"where.0.value": "not_a_text"},
        ),
        (residents(cond("age", ">=", float("inf"))), {"where.0.value": "not_a_number"}),
        (residents(cond("age", "in", [float("-inf")])), {"where.0.value.0": "not_a_number"}),
        (
            {
                "subject": "buildings",
                "where": [cond("floors", ">", float("inf"))],
            },
            {"where.0.value": "not_a_number"},
        ),
        (
            {
                "subject": "incidents",
                "where": [cond("reported_at", "<=", "9999-12-31")],
                "time": {"within": "reported_at"},
            },
            {"where.0.value": "out_of_range"},
        ),
        (residents(cond("residence_since", ">", "1066-10-14")), {"where.0.value": "out_of_range"}),
    ],
)
def test_validation_names_the_field(catalogues, definition, expected):
    assert problems(definition) == expected


def test_a_valid_definition_has_no_problems_and_reads_as_a_sentence(catalogues):
    definition = residents(cond("age", ">=", 80), cond("tags", "has", "disabled", level="一级"))
    assert definitions.validate(definition) == []
    sentence = definitions.describe(definition)
    assert "80" in sentence and "一级" in sentence and "残疾人" in sentence
