"""The 一表通 merge of issue #17: each failure the issue lists, as a test, and the merge that
proposes computation (a heading read as a definition over the subjects registry)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from reports.models import FormImport, Indicator, ReportTemplate, Source, TemplateColumn
from reports.services import matching
from reports.services.forms import add_figures, computing, confirm, parse_form, propose
from reports.services.forms.confirm import learn_alias
from reports.services.indicators import sync_defined, sync_derived
from tests.test_report_forms import refused, xlsx


def sheet(rows: list[list], *, title: str = "2026年11月XX街道情况统计表", merges=()) -> bytes:
    """A form: a title, then `rows` from row 2 (a header, maybe a unit row, data)."""

    def build(ws):
        ws.append([title])
        for row in rows:
            ws.append(row)
        for merge in merges:
            ws.merge_cells(merge)

    return xlsx(build)


@pytest.fixture
def dept(users):
    sync_derived()
    sync_defined()
    return SimpleNamespace(user=users.department, department=users.department.department)


def proposals_by_cell(form_import: FormImport) -> dict:
    return {p["cell"]: p for p in form_import.proposals}


def decisions_of(form_import: FormImport) -> list[dict]:
    return [{"column": p["column"]} | p["choice"] for p in form_import.proposals]


def stored() -> tuple[int, ...]:
    return (
        Indicator.objects.count(),
        ReportTemplate.objects.count(),
        TemplateColumn.objects.count(),
        FormImport.objects.count(),
    )


# ---- units: a unit row, units after the heading ---------------------------------------------


def test_a_separate_unit_row_is_read_as_units_not_as_the_first_data_row():
    parsed = parse_form(
        sheet(
            [
                ["序号", "社区名称", "户数", "人口", "房屋", "路灯"],
                ["单位", None, "户", "人", "栋", "盏"],
                [1, "东街社区", 120, 350, 40, 18],
                [2, "西街社区", 98, 301, 35, 12],
            ]
        ),
        "units.xlsx",
    )
    assert [(c.name, c.unit, c.value_type) for c in parsed.columns] == [
        ("户数", "户", "integer"),
        ("人口", "人", "integer"),
        ("房屋", "栋", "integer"),
        ("路灯", "盏", "integer"),
    ]
    assert parsed.columns[0].samples == [120, 98]
    assert parsed.layout["header_rows"] == 2
    assert parsed.row_level == "community"


@pytest.mark.parametrize(
    ("heading", "name", "unit"),
    [
        ("路灯(根)", "路灯", "根"),
        ("公墓（具）", "公墓", "具"),
        ("林地面积/亩", "林地面积", "亩"),
        ("农村公路里程/公里", "农村公路里程", "千米"),
        ("造林面积/公顷", "造林面积", "公顷"),
        ("辖区面积（平方公里）", "辖区面积", "平方千米"),
        ("集体收入（万元）", "集体收入", "万元"),
        ("桥梁/座", "桥梁", "座"),
        ("道路/条", "道路", "条"),
        ("每千人口床位数（张/千人）", "每千人口床位数", "张/千人"),
        ("巡查（次）", "巡查", "次"),
        ("纠纷（件）", "纠纷", "件"),
        ("车辆（辆）", "车辆", "辆"),
        ("设备（台）", "设备", "台"),
        ("学校（所）", "学校", "所"),
        ("企业（家）", "企业", "家"),
        ("隐患（处）", "隐患", "处"),
        ("党员（名）", "党员", "名"),
        ("整改率(%)", "整改率", "%"),
        ("收入，单位：元", "收入", "元"),
        ("路灯（盏）", "路灯", "盏"),  # a classifier not listed, alone in brackets
        ("老人（男）", "老人(男)", ""),  # a qualifier, not a unit
    ],
)
def test_units_after_the_heading_are_understood_and_stripped(heading, name, unit):
    assert matching.split_unit(heading) == (name, unit)


def test_a_unit_after_a_slash_is_not_a_level_of_the_heading():
    parsed = parse_form(
        sheet([["序号", "行政村", "农村公路里程/公里", "桥梁/座"], [1, "一村", 12.5, 3]]),
        "roads.xlsx",
    )
    assert parsed.row_level == "community"  # 行政村 is a key column
    assert [(c.heading, c.name, c.unit) for c in parsed.columns] == [
        ("农村公路里程（公里）", "农村公路里程", "千米"),
        ("桥梁（座）", "桥梁", "座"),
    ]


# ---- 其中 -------------------------------------------------------------------------------------


def test_qizhong_items_are_parts_of_the_item_above(dept):
    data = sheet(
        [
            ["序号", "社区", "60岁以上老人数", "其中：80岁以上"]
            + ["低保人数（人）", "其中：残疾人（人）"],
            [1, "东街社区", 300, 40, 25, 4],
        ]
    )
    parsed = parse_form(data, "parts.xlsx")
    got = [(c.name, c.part_of) for c in parsed.columns]
    assert got == [
        ("60岁以上老人数", None),
        ("80岁以上老人数", 2),
        ("低保人数", None),
        ("残疾人", 4),
    ]
    form_import = propose(dept.user, dept.department, data, "parts.xlsx")
    by_cell = proposals_by_cell(form_import)
    assert by_cell["D2"]["choice"] == {"indicator": "POP_AGE_80"}
    # Disabled people among those on 低保: both tags, not every disabled person.
    part = by_cell["F2"]
    assert part["status"] == "defined"
    assert part["choice"]["definition"]["where"] == [
        {"field": "tags", "op": "has", "value": "low_income"},
        {"field": "tags", "op": "has", "value": "disabled"},
    ]


def test_a_group_named_qizhong_and_a_total_leaf():
    def build(ws):
        ws.append(["实有人口情况统计表"])
        ws.append(["序号", "网格", "实有人口", None, "其中", None])
        ws.append([None, None, "合计", "户籍人口", "男", "女"])
        ws.merge_cells("C2:D2")
        ws.merge_cells("E2:F2")
        ws.merge_cells("A2:A3")
        ws.merge_cells("B2:B3")
        ws.append([1, "一网格", 500, 420, 250, 250])

    parsed = parse_form(xlsx(build), "group.xlsx")
    names = [(c.name, c.part_of) for c in parsed.columns]
    assert names[0] == ("实有人口", None)  # "合计" named by its group
    assert names[2][1] == names[3][1] == 3  # the parts of 户籍人口


# ---- refusals ---------------------------------------------------------------------------------


def test_a_numbers_only_sheet_is_refused_naming_the_sheet_and_row(dept):
    data = xlsx(lambda ws: [ws.append([100, 200, 300]) for _ in range(3)])
    before = stored()
    error = refused(propose, dept.user, dept.department, data, "numbers.xlsx")
    problem = error.problems[0]
    assert (problem.code, problem.row, problem.field) == ("numbers_only", 1, "A1")
    assert problem.feature == "Sheet"
    assert stored() == before


def test_a_sheet_without_a_header_row_is_refused(dept):
    def build(ws):
        ws.append(["XX社区情况"])
        ws.append(["东街社区", 120, 35])
        ws.append(["西街社区", 98, 30])

    before = stored()
    error = refused(propose, dept.user, dept.department, xlsx(build), "headless.xlsx")
    problem = error.problems[0]
    assert (problem.code, problem.row, problem.field) == ("no_header", 2, "B2")
    assert "2" in problem.message
    assert stored() == before


def test_a_header_with_a_year_or_two_as_numbers_is_read():
    parsed = parse_form(sheet([["序号", "社区", 2025, 2026], [1, "东街社区", 3, 4]]), "years.xlsx")
    assert [c.name for c in parsed.columns] == ["2025", "2026"]


def test_a_header_of_key_columns_only_is_refused():
    error = refused(parse_form, sheet([["序号", "社区名称"], [1, "东街社区"]]), "keys.xlsx")
    assert error.problems[0].code == "no_data_columns"


# ---- aliases ----------------------------------------------------------------------------------


def test_registered_population_is_not_an_alias_of_residents(dept):
    residents = Indicator.objects.get(code="POP_RESIDENTS")
    assert "户籍人口" not in residents.aliases
    data = sheet([["序号", "网格", "户籍人口（人）", "常住人口（人）"], [1, "一网格", 400, 500]])
    by_cell = proposals_by_cell(propose(dept.user, dept.department, data, "pop.xlsx"))
    assert by_cell["C2"]["choice"] == {"indicator": "POP_REGISTERED"}
    assert by_cell["D2"]["choice"] == {"indicator": "POP_RESIDENTS"}


def test_the_departments_wording_is_learnt_on_confirm_and_later_forms_merge(dept):
    first = propose(
        dept.user, dept.department, sheet([["序号", "网格", "网格党支部（个）"], [1, "一", 1]]), "a"
    )
    decisions = decisions_of(first)
    assert "new" in decisions[0]
    decisions[0]["new"] = decisions[0]["new"] | {"code": "GRID_BRANCHES", "name": "网格党支部数"}
    confirm(dept.user, first, decisions, title="一", code="f1")
    # Another department's word for it, corrected by hand to the item the first form made.
    worded = sheet([["序号", "网格", "楼宇党建阵地（个）"], [1, "一", 1]])
    second = propose(dept.user, dept.department, worded, "b")
    assert proposals_by_cell(second)["C2"]["choice"] != {"indicator": "GRID_BRANCHES"}
    confirm(
        dept.user,
        second,
        [{"column": 2, "indicator": "GRID_BRANCHES"}],
        title="二",
        code="f2",
    )
    assert "楼宇党建阵地" in Indicator.objects.get(code="GRID_BRANCHES").aliases
    # The next form worded so merges into it without help.
    third = propose(dept.user, dept.department, worded, "c")
    assert proposals_by_cell(third)["C2"]["choice"] == {"indicator": "GRID_BRANCHES"}


# ---- ties -------------------------------------------------------------------------------------


def ind(code, name, unit="人", aliases=()):
    return SimpleNamespace(code=code, name=name, unit=unit, aliases=list(aliases))


def test_ties_are_broken_by_meaning_and_use_not_by_code():
    a = ind("A_FIRST", "志愿者人数", aliases=["志愿者"])
    b = ind("Z_LAST", "志愿者人数", aliases=["志愿者"])
    assert matching.rank("志愿者人数", "人", [a, b], uses={"Z_LAST": 3})[0].code == "Z_LAST"
    assert matching.rank("志愿者人数", "人", [b, a], uses={"A_FIRST": 3})[0].code == "A_FIRST"
    # Same score: the one whose unit is the heading's wins.
    count = ind("A_COUNT", "志愿服务", "次")
    people = ind("Z_PEOPLE", "志愿服务", "人")
    assert matching.rank("志愿服务（人）", "", [count, people])[0].code == "Z_PEOPLE"
    # Same score: named by its own name rather than an alias.
    named = ind("Z_NAMED", "护林员数")
    aliased = ind("A_ALIASED", "生态护林员", aliases=["护林员数"])
    assert matching.rank("护林员数", "", [aliased, named])[0].code == "Z_NAMED"


def test_a_full_tie_is_only_suggested():
    """Equal on every ranking key: the code order would choose, so nobody is matched."""
    a = ind("A_FIRST", "志愿者人数")
    b = ind("Z_LAST", "志愿者人数")
    ranked = matching.rank("志愿者人数", "人", [a, b])
    assert ranked[0].score == 1.0 and ranked[0].tied
    assert matching.status(ranked) == "suggested"
    assert matching.status(matching.rank("志愿者人数", "人", [a, b], limit=1)) == "suggested"
    # Told apart by use: matched.
    assert matching.status(matching.rank("志愿者人数", "人", [a, b], uses={"A_FIRST": 1})) == (
        "matched"
    )


def test_an_alias_is_not_learnt_when_it_names_another_indicator(dept):
    target = Indicator.objects.get(code="POP_RESIDENTS")
    other = Indicator.objects.active().exclude(pk=target.pk).exclude(name="").first()
    before = list(target.aliases)
    learn_alias(target, {"name": other.name})
    learn_alias(target, {"name": f"{other.name}合计"})  # the same in canonical form
    assert Indicator.objects.get(pk=target.pk).aliases == before


def test_learning_an_alias_keeps_one_learnt_meanwhile(dept):
    """Two confirms at once: the second reads the aliases again under a row lock."""
    stale = Indicator.objects.get(code="POP_RESIDENTS")
    Indicator.objects.filter(pk=stale.pk).update(aliases=[*stale.aliases, "辖区居住人员甲"])
    learn_alias(stale, {"name": "辖区居住人员乙"})
    aliases = Indicator.objects.get(pk=stale.pk).aliases
    assert {"辖区居住人员甲", "辖区居住人员乙"} <= set(aliases)
    assert stale.aliases == aliases


@pytest.mark.parametrize(
    ("heading", "other"),
    [
        ("食品安全检查", ind("S", "安全检查次数", "次")),  # a narrower thing is not the item
        ("网格党组织", ind("P", "党组织数", "个")),
    ],
)
def test_a_wording_that_adds_a_thing_is_not_the_item(heading, other):
    assert matching.score(heading, "", other).score < matching.MATCHED


def test_words_in_another_order_are_the_same_item():
    patrols = ind("P", "森林防火巡查次数", "次", aliases=["护林巡山次数"])
    assert matching.score("巡山护林（次）", "", patrols).score >= matching.MATCHED


# ---- proposing computation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "unit", "definition"),
    [
        ("80岁以上老人", "", ("residents", [("age", ">=", 80)], "count", "stock")),
        ("0-6岁儿童", "人", ("residents", [("age", "between", [0, 6])], "count", "stock")),
        ("不满18周岁", "人", ("residents", [("age", "<", 18)], "count", "stock")),
        ("流动人口", "", ("residents", [("registration", "=", "floating")], "count", "stock")),
        (
            "户籍人口数",
            "人",
            ("residents", [("registration", "=", "registered")], "count", "stock"),
        ),
        (
            "低保户数",
            "",
            ("residents", [("tags", "has", "low_income")], {"distinct": "household"}, "stock"),
        ),
        ("个体工商户", "户", ("units", [("type", "=", "self_employed")], "count", "stock")),
        ("住宅楼栋数", "栋", ("buildings", [("use", "=", "residential")], "count", "stock")),
        (
            "已整改隐患",
            "处",
            (
                "incidents",
                [("category", "=", "06"), ("status", "in", ["closed", "assessed"])],
                "count",
                {"within": "closed_at"},
            ),
        ),
        (
            "邻里纠纷",
            "件",
            ("incidents", [("category", "=", "070101")], "count", {"within": "reported_at"}),
        ),
        ("网格数", "个", ("grids", [], "count", "stock")),
        ("生产经营单位", "家", ("units", [("type", "=", "enterprise")], "count", "stock")),
        ("企业（含规上）数", "家", ("units", [("type", "=", "enterprise")], "count", "stock")),
        ("中小学及幼儿园", "所", ("units", [("type", "=", "school")], "count", "stock")),
        ("从业人员", "人", ("units", [], {"sum": "employees"}, "stock")),
        # 含 widens what is counted, or says a bound is in; it never narrows (R1 item 0).
        (
            "流动人口（含境外人员）",
            "人",
            ("residents", [("registration", "in", ["floating", "overseas"])], "count", "stock"),
        ),
        (
            "企业（含个体工商户）",
            "家",
            ("units", [("type", "in", ["enterprise", "self_employed"])], "count", "stock"),
        ),
        (
            "低保对象(含特困人员)",
            "人",
            (
                "residents",
                [("tags", "has_any", ["low_income", "extreme_poverty"])],
                "count",
                "stock",
            ),
        ),
        ("企业（含国有企业）", "家", ("units", [("type", "=", "enterprise")], "count", "stock")),
        ("14岁（含）以下儿童", "人", ("residents", [("age", "<=", 14)], "count", "stock")),
        ("60岁(含)以下人口", "人", ("residents", [("age", "<=", 60)], "count", "stock")),
        ("14岁以下（含14岁）儿童", "人", ("residents", [("age", "<=", 14)], "count", "stock")),
        (
            "18周岁以下（含18周岁）未成年人",
            "人",
            ("residents", [("age", "<=", 18)], "count", "stock"),
        ),
        ("60岁以上（含60岁）老人", "人", ("residents", [("age", ">=", 60)], "count", "stock")),
        # 以下 with a number includes it (民法典 第1259条); 不满 and 不含 leave it out.
        ("14岁以下儿童", "人", ("residents", [("age", "<=", 14)], "count", "stock")),
        ("14周岁及以下儿童", "人", ("residents", [("age", "<=", 14)], "count", "stock")),
        ("14岁以下（不含14岁）儿童", "人", ("residents", [("age", "<", 14)], "count", "stock")),
        ("14岁（不含）以下儿童", "人", ("residents", [("age", "<", 14)], "count", "stock")),
        ("未满14周岁儿童", "人", ("residents", [("age", "<", 14)], "count", "stock")),
    ],
)
def test_headings_read_as_definitions(dept, heading, unit, definition):
    got = computing.read(heading, unit)
    subject, where, measure, time = definition
    assert got is not None, heading
    assert got["subject"] == subject
    assert [(c["field"], c["op"], c["value"]) for c in got["where"]] == where
    assert (got["measure"], got["time"]) == (measure, time)


@pytest.mark.parametrize(
    "heading",
    [
        "80岁以上老人体检人数",
        "住宅小区数",
        "火灾隐患整改数",
        "网格员人数",
        "养老服务补贴发放人数",
        "临时救助",
        "失能半失能老人",
        # What 含 adds is another condition, or what 不含 takes away: not guessed.
        "老人（含残疾人）",
        "60岁以上含残疾人",
        "流动人口（不含境外人员）",
        "14岁以下（含15岁）儿童",
    ],
)
def test_headings_saying_more_than_the_vocabulary_are_not_read(dept, heading):
    assert computing.read(heading, "") is None


def test_the_merge_proposes_computation_and_confirm_creates_it(dept, homes):
    data = sheet(
        [
            ["序号", "社区", "80岁以上老人（人）", "0-6岁儿童（人）", "临时救助（人次）"],
            [1, "东街社区", 40, 30, 2],
        ]
    )
    form_import = propose(dept.user, dept.department, data, "care.xlsx")
    assert "figure" not in form_import.proposals[0]  # counted apart, when the page asks
    form_import = add_figures(dept.user, form_import)
    form_import.refresh_from_db()
    by_cell = proposals_by_cell(form_import)
    assert by_cell["C2"]["choice"] == {"indicator": "POP_AGE_80"}  # seeded, same definition
    assert by_cell["C2"]["figure"]["value"] >= 0  # the district's figure beside it
    defined = by_cell["D2"]
    assert defined["status"] == "defined"
    assert defined["choice"]["definition"]["where"] == [
        {"field": "age", "op": "between", "value": [0, 6]}
    ]
    assert "value" in defined["figure"]
    assert defined["description"]  # the definition in words
    assert by_cell["E2"]["choice"]["new"]["level"] == "community"  # typed by the form's rows
    # A bad definition is refused naming the column and the definition's field.
    bad = decisions_of(form_import)
    bad[1] = {"column": 3, "definition": {"subject": "residents", "where": [{"field": "age"}]}}
    before = stored()
    error = refused(confirm, dept.user, form_import, bad, title="t", code="care")
    assert any(p.field.startswith("columns.3.definition.where.0") for p in error.problems)
    assert stored() == before
    # Accepted as proposed: a derived indicator holding the definition; the new item typed
    # per community each quarter as the page set it.
    decisions = decisions_of(form_import)
    decisions[2]["new"] = decisions[2]["new"] | {"level": "street", "period_type": "month"}
    template = confirm(dept.user, form_import, decisions, title="t", code="care")
    codes = list(template.columns.values_list("indicator__code", flat=True))
    created = Indicator.objects.get(code=codes[1])
    assert created.source == Source.DERIVED
    assert created.definition["where"] == [{"field": "age", "op": "between", "value": [0, 6]}]
    assert created.time_aggregation == "latest"
    typed = Indicator.objects.get(code=codes[2])
    assert (typed.source, typed.level, typed.period_type) == ("collected", "street", "month")


def test_an_indicator_confirmed_from_a_flow_definition_adds_up_and_is_described(dept):
    """The page sends the column's collected spec (latest, no description) when a row is
    switched to "compute it": what the definition counts decides (R1 item 8)."""
    from reports import definitions

    data = sheet([["序号", "网格", "大家庭新登记（户）"], [1, "一网格", 4]])
    form_import = propose(dept.user, dept.department, data, "flow.xlsx")
    collected = form_import.proposals[0]["choice"]["new"] | {
        "code": "HH_BIG_NEW",
        "time_aggregation": "latest",
        "description": "",
    }
    definition = {
        "subject": "households",
        "where": [{"field": "member_count", "op": ">=", "value": 7}],
        "measure": "count",
        "time": {"within": "registered_on"},
    }
    decision = {"column": 2, "definition": definition, "new": collected}
    template = confirm(dept.user, form_import, [decision], title="t", code="flow")
    created = template.columns.get().indicator
    assert created.code == "HH_BIG_NEW"
    assert created.time_aggregation == "sum"
    assert created.description == definitions.describe(definition)
    assert created.description


def test_confirming_a_definition_an_indicator_holds_reuses_it(dept):
    data = sheet([["序号", "网格", "流动人员（人）"], [1, "一网格", 40]])
    form_import = propose(dept.user, dept.department, data, "floating.xlsx")
    definition = {
        "subject": "residents",
        "where": [{"field": "registration", "op": "in", "value": ["floating"]}],
        "measure": "count",
        "time": "stock",
    }
    before = Indicator.objects.count()
    template = confirm(
        dept.user, form_import, [{"column": 2, "definition": definition}], title="t", code="fl"
    )
    assert Indicator.objects.count() == before
    assert template.columns.get().indicator.code == "POP_FLOATING"


def test_a_reading_equal_to_a_computation_in_code_is_that_indicator(dept):
    data = sheet([["序号", "网格", "城乡低保对象（人）", "百岁老人（人）"], [1, "一网格", 4, 1]])
    by_cell = proposals_by_cell(propose(dept.user, dept.department, data, "low.xlsx"))
    # residents tagged low_income is what POP_LOW_INCOME computes in code.
    assert by_cell["C2"]["choice"] == {"indicator": "POP_LOW_INCOME"}
    assert by_cell["D2"]["choice"]["definition"]["where"] == [
        {"field": "age", "op": ">=", "value": 100}
    ]


def test_what_communities_will_still_type_before_publishing(dept, tree):
    data = sheet(
        [
            ["序号", "社区", "流动人口（人）", "临时救助（人次）", "低保金发放（万元）"],
            [1, "东街社区", 40, 2, 1.5],
        ]
    )
    form_import = propose(dept.user, dept.department, data, "typing.xlsx")
    typing = form_import.layout["form"]["typing"]
    communities = typing["units"]["community"]
    assert communities >= 1
    assert typing["before"] == communities * 3  # every cell of the form, by its rows
    assert typing["after"] == communities * 2  # the two new items, typed per community
    assert [c["why"] for c in typing["still_typed"]] == ["new", "new"]
    assert [c["heading"] for c in typing["computed"]] == ["流动人口（人）"]
    assert typing["reduction"] == round(1 - 2 / 3, 4)


def test_the_page_asks_the_figures_through_the_api(dept, homes, users):
    """The import page asks for the figures once the mapping is shown (POST …/figures/)."""
    data = sheet([["序号", "社区", "80岁以上老人（人）"], [1, "东街社区", 40]])
    form_import = propose(dept.user, dept.department, data, "care.xlsx")
    client = APIClient()
    client.force_authenticate(dept.user)
    response = client.post(f"/api/reports/form-imports/{form_import.pk}/figures/")
    assert response.status_code == 200, response.content
    by_cell = {p["cell"]: p for p in response.json()["proposals"]}
    assert by_cell["C2"]["figure"]["value"] >= 0
    # Another department's import is not there for it.
    client.force_authenticate(users.worker)
    response = client.post(f"/api/reports/form-imports/{form_import.pk}/figures/")
    assert response.status_code in (403, 404)


def test_a_department_cannot_count_by_a_personal_field_through_a_form(dept):
    """The preview refuses personal fields to definers without personal-data rights; so does
    confirming a form (a department could otherwise find whose birthday is when)."""
    data = sheet([["序号", "社区", "80岁以上老人（人）"], [1, "东街社区", 40]])
    form_import = propose(dept.user, dept.department, data, "care.xlsx")
    decisions = decisions_of(form_import)
    probe = {
        "subject": "residents",
        "where": [{"field": "birth_date", "op": "=", "value": "1945-05-01"}],
        "measure": "count",
        "time": "stock",
    }
    decisions[-1] = {"column": decisions[-1]["column"], "definition": probe}
    before = stored()
    error = refused(confirm, dept.user, form_import, decisions, title="t", code="probe")
    assert any(p.code == "personal_field" for p in error.problems), error.problems
    assert stored() == before
