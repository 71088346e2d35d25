"""一表通 item 3: a department's existing Excel form brought in — parsed, matched against the
shared indicators, confirmed as a template, and generated back in its own layout."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook

from grids.models import Department, Role
from grids.problems import ProblemsError
from reports.models import FormImport, Indicator, ReportTemplate, TemplateColumn
from reports.periods import Period
from reports.services import matching
from reports.services.forms import (
    confirm,
    guess_value_type,
    key_kind,
    parse_form,
    propose,
    split_period,
)
from reports.services.generate import generate
from reports.services.indicators import sync_derived

# ---- fixtures: forms as departments make them -----------------------------------------------

TITLE = "XX社区独居老人情况统计表（2026年10月）"


def xlsx(build) -> bytes:
    wb = Workbook()
    build(wb.active)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def civil_affairs_form(rows: int = 3) -> bytes:
    """民政局's monthly form: a title, a 填报单位 line, a two-row header with merged groups,
    rows per grid, a total and a footer."""

    def build(ws):
        ws.title = "独居老人"
        ws["A1"] = TITLE
        ws.merge_cells("A1:I1")
        ws["A2"] = "填报单位：XX社区居委会"
        ws.merge_cells("A2:E2")
        ws["F2"] = "填报日期：2026年11月3日"
        ws.merge_cells("F2:I2")
        for ref, text, merge in [
            ("A3", "序号", "A3:A4"),
            ("B3", "网格名称", "B3:B4"),
            ("C3", "人口情况", "C3:E3"),
            ("F3", "特殊人群", "F3:H3"),
            ("I3", "养老服务补贴\n发放人数（人）", "I3:I4"),
        ]:
            ws[ref] = text
            ws.merge_cells(merge)
        for ref, text in [
            ("C4", "常住人口（人）"),
            ("D4", "户数（户）"),
            ("E4", "60岁以上老人数"),
            ("F4", "低保对象（人）"),
            ("G4", "残疾人（人）"),
            ("H4", "独居老人（人）"),
        ]:
            ws[ref] = text
        for i in range(rows):
            ws.append([i + 1, f"第{i + 1}网格", 1200 + i, 450, 230, 12, 8, 15, 20])
        ws.append(["合计", None, 3603, 1350, 690, 36, 24, 45, 60])
        ws.append([])
        ws.append(["填报人：张三    审核人：李四    单位负责人：王五"])
        ws.append(["填报日期：2026年11月3日"])

    return xlsx(build)


def sync_indicators():
    sync_derived()
    return {i.code: i for i in Indicator.objects.all()}


@pytest.fixture
def forms(users):
    """The tree, its users, the derived indicators and 民政局's form proposed."""
    sync_indicators()
    department = users.department.department
    return SimpleNamespace(
        users=users,
        department=department,
        data=civil_affairs_form(),
        other=Department.objects.create(
            code="transport", name="交通局", district=department.district
        ),
    )


def counts() -> tuple[int, ...]:
    return (
        Indicator.objects.count(),
        ReportTemplate.objects.count(),
        TemplateColumn.objects.count(),
        FormImport.objects.count(),
        FormImport.objects.filter(status="confirmed").count(),
    )


def decisions_of(form_import: FormImport) -> list[dict]:
    return [{"column": p["column"]} | p["choice"] for p in form_import.proposals]


def refused(call, *args, **kwargs) -> ProblemsError:
    with pytest.raises(ProblemsError) as caught:
        call(*args, **kwargs)
    return caught.value


# ---- matching -------------------------------------------------------------------------------


def ind(code: str, name: str, unit: str = "人", aliases=()) -> SimpleNamespace:
    return SimpleNamespace(code=code, name=name, unit=unit, aliases=list(aliases))


ELDERLY = ind("POP_ELDERLY", "60岁以上老年人数", aliases=["老年人口（60周岁及以上）", "老年人数"])
RESIDENTS = ind("POP_RESIDENTS", "居民人数", aliases=["总人口", "常住人口", "人口数", "实有人口"])
HOUSEHOLDS = ind("POP_HOUSEHOLDS", "户数", "户", aliases=["总户数", "常住户数"])
LOW_INCOME = ind("POP_LOW_INCOME", "低保对象人数", aliases=["低保人数", "最低生活保障对象"])
DISABLED = ind("POP_DISABLED", "残疾人数", aliases=["残疾人口", "持证残疾人数", "残障人士数"])
PARTY = ind("LEAD_PARTY", "中共党员人数")
CATALOGUE = [ELDERLY, RESIDENTS, HOUSEHOLDS, LOW_INCOME, DISABLED, PARTY]


@pytest.mark.parametrize(
    ("heading", "unit", "target"),
    [
        ("60岁以上老人数", "", ind("X", "老年人口（60周岁及以上）", "")),
        ("60岁以上老人数", "", ELDERLY),
        ("老年人口（60周岁及以上）", "人", ELDERLY),
        ("６０周岁及以上老年人数", "", ELDERLY),  # full-width digits
        ("人口情况/60岁以上老人数", "", ELDERLY),
        ("常住人口（人）", "", RESIDENTS),
        ("常住人口", "人", RESIDENTS),
        ("户数", "", ind("H", "总户数", "户")),
        ("总户数（户）", "", HOUSEHOLDS),
        ("低保对象（人）", "", LOW_INCOME),
        ("最低生活保障对象人数", "人", LOW_INCOME),
        ("残障人士（人）", "", DISABLED),
        ("特殊人群/残疾人（人）", "", DISABLED),
        ("党员人数", "人", PARTY),
        ("共产党员数量（名）", "", PARTY),
    ],
)
def test_matching_finds_the_same_item_however_it_is_worded(heading, unit, target):
    candidate = matching.score(heading, unit, target)
    assert candidate.score >= matching.MATCHED, candidate
    # Nothing else in the catalogue scores higher.
    catalogue = [i for i in CATALOGUE if i.code != target.code] + [target]
    best = matching.rank(heading, unit, catalogue)[0]
    assert best.score == candidate.score, best
    # X and H are ELDERLY's and HOUSEHOLDS's wordings made items of their own: each ties with
    # it on every key, and a tie is only suggested (review R1 item 7: the catalogue's order
    # must not choose).
    assert best.tied == (target.code in ("X", "H")), best
    assert matching.status([best]) == ("suggested" if best.tied else "matched")


@pytest.mark.parametrize(
    ("heading", "unit", "target", "why"),
    [
        ("60岁以上老人数", "", ind("X", "80岁以上老人数"), "numbers differ"),
        ("80岁以上老人数", "", ELDERLY, "numbers differ"),
        ("65周岁以上老年人数", "人", ELDERLY, "numbers differ"),
        ("党员人数", "", HOUSEHOLDS, ""),
        ("低保户数（户）", "", LOW_INCOME, "different units"),
        ("低保对象人数（人）", "", ind("L", "低保户数", "户"), "different units"),
        ("常住人口（人）", "", HOUSEHOLDS, ""),
        ("户数（户）", "", RESIDENTS, ""),
        ("养老服务补贴发放人数（人）", "", ELDERLY, ""),
        ("集体经济收入（万元）", "", RESIDENTS, ""),
    ],
)
def test_matching_keeps_different_items_apart(heading, unit, target, why):
    candidate = matching.score(heading, unit, target)
    assert candidate.score < matching.SUGGESTED, candidate
    assert why in candidate.reason


def test_matching_ranks_candidates_with_reasons():
    ranked = matching.rank("老年人数", "", CATALOGUE)
    assert ranked[0].code == "POP_ELDERLY"
    assert ranked[0].reason == "same as the alias 老年人数"
    assert all(0 <= c.score <= 1 for c in ranked)
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    # Nothing like it: no candidates, a new indicator.
    assert matching.status(matching.rank("垃圾分类桶数（个）", "", CATALOGUE)) == "new"


def test_matching_units():
    assert matching.split_unit("常住人口（人）") == ("常住人口", "人")
    assert matching.split_unit("面积(平方公里)") == ("面积", "平方千米")
    assert matching.split_unit("收入，单位：万元") == ("收入", "万元")
    assert matching.split_unit("老年人口（60周岁及以上）") == ("老年人口(60周岁及以上)", "")
    assert matching.unit_agreement("人", "名") == (1.0, "")
    assert matching.unit_agreement("元", "万元")[0] == 0.9
    assert matching.unit_agreement("人", "户")[0] < 0.5
    assert matching.unit_agreement("个", "人")[0] < 0.5
    assert matching.unit_agreement("", "户") == (1.0, "")


def test_canonical_form():
    a, b = matching.canonical("60岁以上老人数"), matching.canonical("老年人口（60周岁及以上）")
    assert a.numbers == b.numbers == {"60+"}
    assert sorted(a.tokens) == sorted(b.tokens)
    assert matching.canonical("18岁以下儿童").numbers == {"18-"}
    assert matching.canonical("低保户数").unit == "户"
    assert matching.canonical("党员人数").unit == "人"
    assert matching.canonical("总户数").text == matching.canonical("户数").text


# ---- parsing --------------------------------------------------------------------------------


def test_parse_a_two_row_merged_header():
    parsed = parse_form(civil_affairs_form(), "独居老人.xlsx")
    assert parsed.sheet == "独居老人"
    assert parsed.title == "XX社区独居老人情况统计表"
    assert parsed.layout["title"] == "XX社区独居老人情况统计表（{period}）"
    assert parsed.period_type == "month"
    assert parsed.row_level == "grid"
    assert parsed.subtitle == ["填报单位：XX社区居委会", "填报日期：2026年11月3日"]
    layout = parsed.layout
    assert layout["header_rows"] == 2
    assert layout["width"] == 9
    assert layout["key_columns"] == [{"col": 0, "kind": "index"}, {"col": 1, "kind": "name"}]
    header = {(h["text"], h["row"], h["col"], h["rowspan"], h["colspan"]) for h in layout["header"]}
    assert ("人口情况", 0, 2, 1, 3) in header
    assert ("特殊人群", 0, 5, 1, 3) in header
    assert ("序号", 0, 0, 2, 1) in header
    assert ("养老服务补贴\n发放人数（人）", 0, 8, 2, 1) in header
    assert ("常住人口（人）", 1, 2, 1, 1) in header
    assert len(header) == 11
    assert layout["footer"] == ["填报人：", "审核人：", "单位负责人：", "填报日期：{date}"]
    assert [(c.col, c.cell, c.heading, c.unit) for c in parsed.columns] == [
        (2, "C4", "人口情况/常住人口（人）", "人"),
        (3, "D4", "人口情况/户数（户）", "户"),
        (4, "E4", "人口情况/60岁以上老人数", ""),
        (5, "F4", "特殊人群/低保对象（人）", "人"),
        (6, "G4", "特殊人群/残疾人（人）", "人"),
        (7, "H4", "特殊人群/独居老人（人）", "人"),
        (8, "I3", "养老服务补贴发放人数（人）", "人"),
    ]
    # Samples of the data rows, not the total.
    assert parsed.columns[0].samples == [1200, 1201, 1202]
    assert all(c.value_type == "integer" for c in parsed.columns)


def test_parse_an_offset_form_with_unit_row_and_column_numbers():
    """A community-level form starting at column B, with 所属街道, a 栏次 row, a units row,
    one-row groups (no vertical merges) and rates, money and text columns."""

    def build(ws):
        ws["B2"] = "2026年第三季度社区基本情况季报"
        ws.merge_cells("B2:H2")
        ws["B3"] = "单位：个"
        ws.append([])
        ws["B4"], ws["C4"], ws["D4"], ws["E4"] = "所属街道", "社区名称", "集体经济", None
        ws.merge_cells("D4:E4")
        ws["F4"], ws["G4"], ws["H4"] = "小区数", "是否建立业委会", "备注"
        ws["D5"], ws["E5"] = "收入（万元）", "入户率"
        for col, text in zip("BCDEFGH", ["甲", "乙", "1", "2", "3", "4", "5"], strict=True):
            ws[f"{col}6"] = text
        ws["D7"], ws["E7"] = "万元", "%"
        ws.append([None, "街道1", "社区11", 12.5, "85%", 7, "是", "无"])
        ws.append([None, "街道1", "社区12", 3, "90%", 4, "否", ""])

    parsed = parse_form(xlsx(build), "季报.xlsx")
    assert parsed.title == "社区基本情况季报"
    assert parsed.layout["title"] == "{period}社区基本情况季报"
    assert parsed.period_type == "quarter"
    assert parsed.row_level == "community"
    assert parsed.layout["header_rows"] == 4  # two heading rows, 栏次, units
    assert parsed.layout["key_columns"] == [
        {"col": 0, "kind": "parent"},
        {"col": 1, "kind": "name"},
    ]
    got = {c.heading: (c.col, c.unit, c.value_type) for c in parsed.columns}
    assert got == {
        "集体经济/收入（万元）": (2, "万元", "decimal"),
        "集体经济/入户率": (3, "%", "percentage"),
        "小区数": (4, "个", "integer"),
        "是否建立业委会": (5, "", "boolean"),
        "备注": (6, "", "text"),
    }


def test_parse_takes_the_first_sheet_with_a_header():
    def build(ws):
        ws["A1"] = "填表说明：请按月填报"
        sheet = ws.parent.create_sheet("表1")
        sheet.append(["序号", "社区", "户数", "常住人口"])
        sheet.append([1, "社区11", 10, 30])

    parsed = parse_form(xlsx(build), "f.xlsx")
    assert parsed.sheet == "表1"
    assert parsed.title == "f"
    assert parsed.row_level == "community"
    assert [c.heading for c in parsed.columns] == ["户数", "常住人口"]
    assert parsed.layout["header_rows"] == 1


def test_parse_a_blank_form_with_the_period_beside_the_title():
    """A blank form (nothing below the header), its period in a cell of its own."""

    def build(ws):
        ws["A1"], ws["F1"] = "矛盾纠纷排查调处情况表", "2026年第一季度"
        ws.append(
            ["序号", "街道名称", "排查纠纷数（件）", "调解成功数（件）", "调解成功率", "备注"]
        )

    parsed = parse_form(xlsx(build), "blank.xlsx")
    assert parsed.title == "矛盾纠纷排查调处情况表"
    assert parsed.period_type == "quarter"
    assert parsed.row_level == "street"
    assert parsed.layout["header_rows"] == 1
    assert parsed.layout["footer"] == []
    assert [(c.heading, c.unit, c.value_type, c.samples) for c in parsed.columns] == [
        ("排查纠纷数（件）", "件", "integer", []),
        ("调解成功数（件）", "件", "integer", []),
        ("调解成功率", "", "percentage", []),
        ("备注", "", "text", []),
    ]


@pytest.mark.parametrize(
    ("title", "plain", "kind"),
    [
        ("XX社区独居老人情况统计表（2026年10月）", "XX社区独居老人情况统计表", "month"),
        ("2026年第三季度矛盾纠纷排查表", "矛盾纠纷排查表", "quarter"),
        ("2026年上半年工作统计", "工作统计", "half_year"),
        ("2026年度社区基本情况表", "社区基本情况表", "year"),
        ("____年__月低保情况统计表", "低保情况统计表", "month"),
        ("网格员配备情况季报", "网格员配备情况季报", "quarter"),
        ("辖区基本情况表", "辖区基本情况表", "month"),
    ],
)
def test_period_in_titles(title, plain, kind):
    assert split_period(title)[0] == plain
    assert split_period(title)[2] == kind


def test_key_columns_and_value_types():
    assert key_kind("序号") == "index"
    assert key_kind("网格名称") == "name"
    assert key_kind("网格") == "name"
    assert key_kind("社区（村）") == "name"
    assert key_kind("所属社区") == "parent"
    assert key_kind("网格编码") == "code"
    assert key_kind("网格员人数") is None
    assert guess_value_type("人数", "人", [1, 2.0, "3"]) == "integer"
    assert guess_value_type("面积", "平方千米", [1.25]) == "decimal"
    assert guess_value_type("完成率", "", [0.5]) == "percentage"
    assert guess_value_type("是否达标", "", []) == "boolean"
    assert guess_value_type("有无物业", "", ["有", "无"]) == "boolean"
    assert guess_value_type("情况说明", "", []) == "text"
    assert guess_value_type("负责人", "", ["张三"]) == "text"


def test_not_an_xlsx_is_refused(settings):
    for data, name in [
        (bytes(range(256)) * 8, "random.xlsx"),
        ("序号,网格名称,户数\n1,第一网格,10\n".encode(), "renamed.csv.xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old.xls"),
        (_zip_of({"word/document.xml": "<w/>"}), "a.docx.xlsx"),
        (b"", "empty.xlsx"),
    ]:
        error = refused(parse_form, data, name)
        assert [p.code for p in error.problems] == ["not_xlsx"], name
        assert name in error.problems[0].message
    settings.GRIDLINE_FORM_MAX_MB = 0.001
    error = refused(parse_form, civil_affairs_form(), "big.xlsx")
    assert error.problems[0].code == "too_large"
    assert error.status_code == 413


def _zip_of(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


def test_a_sheet_without_a_header_is_refused():
    error = refused(parse_form, xlsx(lambda ws: None), "empty.xlsx")
    assert [(p.code, p.field) for p in error.problems] == [("no_header", "A1")]

    def title_only(ws):
        ws["B2"] = "XX社区独居老人情况统计表"
        ws.merge_cells("B2:H2")

    error = refused(parse_form, xlsx(title_only), "title.xlsx")
    assert [(p.code, p.field) for p in error.problems] == [("no_header", "B2")]
    message = error.problems[0].message
    assert "只有标题（“XX社区独居老人情况统计表”），没有表头行" in message, message


# ---- propose and confirm --------------------------------------------------------------------


def test_propose_maps_columns_to_indicators(forms):
    before = Indicator.objects.count()
    form_import = propose(forms.users.department, forms.department, forms.data, "独居老人.xlsx")
    assert Indicator.objects.count() == before  # nothing created before confirming
    assert form_import.status == "proposed"
    assert form_import.department == forms.department
    assert form_import.by == forms.users.department
    mapping = {p["cell"]: (p["status"], p["choice"]) for p in form_import.proposals}
    assert mapping["C4"] == ("matched", {"indicator": "POP_RESIDENTS"})
    assert mapping["D4"] == ("matched", {"indicator": "POP_HOUSEHOLDS"})
    # Read as residents aged 60 or more: the seeded definition saying so (not the elderly tag).
    assert mapping["E4"] == ("matched", {"indicator": "POP_AGE_60"})
    assert mapping["F4"] == ("matched", {"indicator": "POP_LOW_INCOME"})
    assert mapping["G4"] == ("matched", {"indicator": "POP_DISABLED"})
    assert mapping["H4"] == ("matched", {"indicator": "POP_ALONE"})
    status, choice = mapping["I3"]
    assert status == "new"
    assert choice["new"] == {
        "code": "X_CIVIL_AFFAIRS_9",
        "name": "养老服务补贴发放人数",
        "unit": "人",
        "value_type": "integer",
        "group": "population",
        "aggregation": "sum",
        "time_aggregation": "sum",  # 发放: a flow
        "level": "grid",
        "period_type": "month",
        "aliases": ["养老服务补贴发放人数（人）"],
    }
    elderly = next(p for p in form_import.proposals if p["cell"] == "E4")
    assert elderly["candidates"][0]["score"] >= matching.MATCHED
    assert elderly["heading"] == "人口情况/60岁以上老人数"
    assert form_import.layout["form"]["title"] == "XX社区独居老人情况统计表"
    assert form_import.layout["columns"] == {}


def test_confirm_makes_the_template_and_generates_it_in_its_own_layout(forms, tree):
    user = forms.users.department
    form_import = propose(user, forms.department, forms.data, "独居老人.xlsx")
    template = confirm(
        user,
        form_import,
        decisions_of(form_import),
        title="独居老人情况统计表",
        code="civil-alone-elderly",
        due_day=8,
    )
    assert template.owner == forms.department
    assert (template.period_type, template.row_level, template.due_day) == ("month", "grid", 8)
    assert template.created_by == user
    columns = list(template.columns.select_related("indicator").order_by("order"))
    assert [(c.order, c.indicator.code, c.heading) for c in columns] == [
        (1, "POP_RESIDENTS", "人口情况/常住人口（人）"),
        (2, "POP_HOUSEHOLDS", "人口情况/户数（户）"),
        (3, "POP_AGE_60", "人口情况/60岁以上老人数"),
        (4, "POP_LOW_INCOME", "特殊人群/低保对象（人）"),
        (5, "POP_DISABLED", "特殊人群/残疾人（人）"),
        (6, "POP_ALONE", "特殊人群/独居老人（人）"),
        (7, "X_CIVIL_AFFAIRS_9", "养老服务补贴发放人数（人）"),
    ]
    new = columns[-1].indicator
    assert (new.source, new.name, new.unit, new.group.code) == (
        "collected",
        "养老服务补贴发放人数",
        "人",
        "population",
    )
    assert template.layout["columns"] == {str(i): i + 1 for i in range(1, 8)}
    assert "form" not in template.layout
    assert template.layout["title"] == "XX社区独居老人情况统计表（{period}）"
    form_import.refresh_from_db()
    assert (form_import.status, form_import.template) == ("confirmed", template)

    # Round trip: the generated report reads back as the same form.
    period = Period.containing(dt.date.today(), "month").previous()
    table, content = generate(template, period, tree.district, user=user, format="xlsx")
    assert len(table.rows) == 8
    original = parse_form(forms.data, "独居老人.xlsx")
    again = parse_form(content, "generated.xlsx")
    assert [c.heading for c in again.columns] == [c.heading for c in original.columns]
    assert [c.col for c in again.columns] == [c.col for c in original.columns]
    assert sorted(again.layout["header"], key=str) == sorted(original.layout["header"], key=str)
    for key in ("title", "header_rows", "width", "key_columns", "footer"):
        assert again.layout[key] == original.layout[key], key
    assert again.title == original.title
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == f"XX社区独居老人情况统计表（{period.label}）"
    assert {str(r) for r in sheet.merged_cells.ranges} >= {"C3:E3", "F3:H3", "A3:A4", "I3:I4"}


def test_confirm_with_choices_changed_and_columns_skipped(forms):
    user = forms.users.department
    form_import = propose(user, forms.department, forms.data, "f.xlsx")
    decisions = decisions_of(form_import)
    decisions[1] = {"column": 3, "skip": True}
    spec = decisions[-1]["new"] | {"code": "CIVIL_ELDERLY_SUBSIDY", "group": "governance"}
    decisions[-1] = {"column": 8, "new": spec}
    template = confirm(user, form_import, decisions, title="t", code="t1", period_type="quarter")
    assert template.period_type == "quarter"
    assert list(template.columns.values_list("indicator__code", flat=True)) == [
        "POP_RESIDENTS",
        "POP_AGE_60",
        "POP_LOW_INCOME",
        "POP_DISABLED",
        "POP_ALONE",
        "CIVIL_ELDERLY_SUBSIDY",
    ]
    # The skipped column keeps its place in the layout and is left blank.
    assert template.layout["columns"] == {"1": 2, "2": 4, "3": 5, "4": 6, "5": 7, "6": 8}
    assert Indicator.objects.get(code="CIVIL_ELDERLY_SUBSIDY").group.code == "governance"


def test_district_centre_and_admin_may_import_for_a_department(forms):
    for user in (forms.users.district, forms.users.admin):
        form_import = propose(user, forms.other, forms.data, "f.xlsx")
        assert form_import.department == forms.other


def test_who_may_not_import(forms, make_user):
    before = counts()
    stranger = make_user("transport_user", Role.DEPARTMENT, department=forms.other)
    for user in (stranger, forms.users.community, forms.users.street, forms.users.worker):
        error = refused(propose, user, forms.department, forms.data, "f.xlsx")
        assert error.status_code == 403
        assert error.problems[0].code == "forbidden"
    assert counts() == before
    form_import = propose(forms.users.department, forms.department, forms.data, "f.xlsx")
    before = counts()
    error = refused(confirm, stranger, form_import, decisions_of(form_import), title="t", code="t1")
    assert error.status_code == 403
    assert counts() == before


def test_confirm_refuses_a_retired_or_unknown_indicator(forms):
    user = forms.users.department
    form_import = propose(user, forms.department, forms.data, "f.xlsx")
    Indicator.objects.filter(code="POP_AGE_60").update(retired_on=dt.date(2020, 1, 1))
    before = counts()
    decisions = decisions_of(form_import)
    decisions[0] = {"column": 2, "indicator": "NO_SUCH_THING"}
    error = refused(confirm, user, form_import, decisions, title="t", code="t1")
    got = {(p.code, p.field) for p in error.problems}
    assert got == {("unknown_indicator", "columns.2"), ("retired_indicator", "columns.4")}
    retired = next(p for p in error.problems if p.code == "retired_indicator")
    assert "E4" in retired.message and "60岁以上老人数" in retired.message
    assert counts() == before
    form_import.refresh_from_db()
    assert form_import.status == "proposed"


def test_confirm_refuses_bad_decisions_and_fields(forms):
    user = forms.users.department
    form_import = propose(user, forms.department, forms.data, "f.xlsx")
    ReportTemplate.objects.create(
        owner=forms.department, code="taken", title="x", period_type="month"
    )
    before = counts()
    decisions = decisions_of(form_import)
    decisions[1] = {"column": 3, "indicator": "POP_RESIDENTS"}  # used twice
    decisions[-1] = {
        "column": 8,
        "new": decisions[-1]["new"] | {"code": "POP_ELDERLY", "value_type": "money", "group": "x"},
    }
    decisions.append({"column": 99, "skip": True})
    del decisions[2]  # column 4 undecided
    error = refused(
        confirm,
        user,
        form_import,
        decisions,
        title="",
        code="taken",
        row_level="village",
        due_day=0,
    )
    got = {(p.code, p.field) for p in error.problems}
    assert got == {
        ("invalid_title", "title"),
        ("code_taken", "code"),
        ("invalid_row_level", "row_level"),
        ("invalid_due_day", "due_day"),
        ("unknown_column", "decisions.6.column"),
        ("duplicate_indicator", "columns.3"),
        ("undecided", "columns.4"),
        ("code_taken", "columns.8.new.code"),
        ("invalid_value_type", "columns.8.new.value_type"),
        ("invalid_group", "columns.8.new.group"),
    }
    assert counts() == before
    everything_skipped = [{"column": p["column"], "skip": True} for p in form_import.proposals]
    error = refused(confirm, user, form_import, everything_skipped, title="t", code="t2")
    assert [p.code for p in error.problems] == ["no_columns"]
    assert counts() == before


def test_confirming_twice_is_refused(forms):
    user = forms.users.department
    form_import = propose(user, forms.department, forms.data, "f.xlsx")
    template = confirm(user, form_import, decisions_of(form_import), title="t", code="t1")
    before = counts()
    error = refused(confirm, user, form_import, decisions_of(form_import), title="t", code="t2")
    assert error.status_code == 409
    assert error.problems[0].code == "already_confirmed"
    assert template.code in error.problems[0].message
    assert counts() == before


def test_one_indicator_proposed_for_two_columns(forms):
    def build(ws):
        ws.append(["网格", "常住人口（人）", "总人口", "户数"])

    data = xlsx(build)
    form_import = propose(forms.users.department, forms.department, data, "twice.xlsx")
    first, second, households = form_import.proposals
    assert first["choice"] == {"indicator": "POP_RESIDENTS"}
    assert second["status"] == "suggested"
    assert second["duplicate_of"] == first["column"]
    assert second["candidates"][0]["code"] == "POP_RESIDENTS"
    assert "new" in second["choice"]
    assert households["choice"] == {"indicator": "POP_HOUSEHOLDS"}


def test_new_indicator_codes_are_unique(forms):
    user = forms.users.department
    first = propose(user, forms.department, forms.data, "f.xlsx")
    confirm(user, first, decisions_of(first), title="t", code="t1")
    second = propose(user, forms.department, forms.data, "f.xlsx")
    # The subsidy column now matches the indicator the first import created.
    subsidy = next(p for p in second.proposals if p["cell"] == "I3")
    assert subsidy["choice"] == {"indicator": "X_CIVIL_AFFAIRS_9"}
    assert subsidy["new"]["code"] == "X_CIVIL_AFFAIRS_9_2"
