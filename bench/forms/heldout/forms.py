"""The held-out half of the forms set. The matcher's author must not read this folder: its
figure is the honest one only if nothing here shaped the matcher."""

from bench.forms.answers import (
    DISPUTES,
    Col,
    D,
    Form,
    I,
    N,
    Refusal,
    age,
    category,
    cond,
    dfn,
    ind,
    registration,
    residents,
    subject,
    tag,
    unit_type,
    within,
)

CIVIL = ("civil-affairs", "区民政局")
POLICE = ("public-security", "区公安分局")
HEALTH = ("health", "区卫生健康委")
ORGANISATION = ("organisation", "区委组织部")
AGRICULTURE = ("agriculture", "区农业农村委")
EMERGENCY = ("emergency", "区应急管理局")
POLITICAL_LEGAL = ("political-legal", "区委政法委")
STATISTICS = ("statistics", "区统计局")
YOUTH = ("youth-league", "团区委")
WOMEN = ("women-federation", "区妇联")
DISABLED = ("disabled-federation", "区残联")
URBAN = ("urban-management", "区城市管理局")
MARKET = ("market", "区市场监管局")

HOUSEHOLDS = {"distinct": "household"}
# 育龄妇女: women of 15-49 (the statistics' definition), which the platform now holds.
CHILDBEARING = residents(cond("sex", "=", "F"), age("between", [15, 49]))
LOW_INCOME_HOUSEHOLDS = residents(tag("low_income"), measure=HOUSEHOLDS)

FORMS = [
    Form(
        "H01",
        CIVIL,
        "2026年第四季度南大街街道困难群众和特殊群体基本情况统计表",
        "quarter",
        "community",
        keys=["序号", "社区（村）"],
        subtitle=["填报单位：南大街街道民政办              填报日期：2027年1月5日"],
        notes=["注：空巢老人指子女不在身边、独立生活的60周岁以上老人。"],
        difficulty=["two_row_header", "care_groups", "households_of_tag"],
        columns=[
            Col("低保户", "户", I("HH_LOW_INCOME", dfn(LOW_INCOME_HOUSEHOLDS)), group="低保对象"),
            Col(
                "低保人员",
                "人",
                I("POP_LOW_INCOME", dfn(residents(tag("low_income")))),
                group="低保对象",
            ),
            Col("特困人员", "人", I("POP_EXTREME_POVERTY", dfn(residents(tag("extreme_poverty"))))),
            Col("孤儿", "人", I("POP_ORPHANS", dfn(residents(tag("orphan"))))),
            Col(
                "留守儿童",
                "人",
                I("POP_LEFT_BEHIND", dfn(residents(tag("left_behind_child")))),
                group="关爱对象",
            ),
            Col(
                "独居老人",
                "人",
                I("POP_ALONE", dfn(residents(tag("living_alone")))),
                group="关爱对象",
            ),
            Col(
                "空巢老人",
                "人",
                I("POP_EMPTY_NEST", dfn(residents(tag("empty_nest")))),
                group="关爱对象",
            ),
        ],
    ),
    Form(
        "H02",
        POLICE,
        "2026年11月南大街街道流动人口和出租房屋登记情况月报表",
        "month",
        "grid",
        keys=["序号", "社区", "网格"],
        unit_row=True,
        subtitle=["填报单位：南大街派出所"],
        difficulty=["unit_row", "其中", "flow_of_stock"],
        columns=[
            Col(
                "流动人口",
                "人",
                I("POP_FLOATING", dfn(residents(registration("floating")))),
                style="row",
            ),
            Col(
                "其中：本月新登记",
                "人",
                D(residents(registration("floating"), time=within("residence_since"))),
                style="row",
            ),
            Col(
                "境外人员",
                "人",
                I("POP_OVERSEAS", dfn(residents(registration("overseas")))),
                style="row",
            ),
            Col("出租房屋", "套", I("EST_RENTALS"), style="row"),
            Col("重点人员", "人", I("POP_KEY", dfn(residents(tag("key_population")))), style="row"),
        ],
    ),
    Form(
        "H03",
        HEALTH,
        "陈食街道2026年第四季度老年人健康管理及人口变动情况季报表",
        "quarter",
        "community",
        number_row=True,
        difficulty=["number_row", "age_bands", "其中"],
        columns=[
            Col(
                "60周岁以上老年人",
                "人",
                I("POP_AGE_60", dfn(residents(age(">=", 60))), ind("POP_ELDERLY")),
                style="half",
            ),
            Col(
                "其中：80周岁以上",
                "人",
                I("POP_AGE_80", dfn(residents(age(">=", 80)))),
                style="half",
            ),
            Col("65岁以上老年人健康管理", "人", I("POP_ELDERLY_HEALTH"), style="half"),
            Col("出生", "人", I("POP_BIRTHS"), style="half"),
            Col("死亡", "人", I("POP_DEATHS"), style="half"),
            Col("15-49岁育龄妇女", "人", D(CHILDBEARING, ind("POP_CHILDBEARING")), style="half"),
        ],
    ),
    Form(
        "H04",
        ORGANISATION,
        "2026年下半年茶山竹海街道网格党建和网格员队伍情况统计表",
        "half_year",
        "grid",
        keys=["序号", "社区", "网格名称"],
        difficulty=["two_row_header", "derived_visits"],
        columns=[
            Col("网格员", "人", I("ORG_GRID_WORKERS"), group="网格力量"),
            Col("志愿者", "人", I("ORG_VOLUNTEERS"), group="网格力量"),
            Col(
                "党员",
                "人",
                I("POP_PARTY", dfn(residents(tag("party_member")))),
                group="网格力量",
            ),
            Col("党员中心户", "户", N("grid")),
            Col("入户走访", "次", I("GOV_VISITS")),
        ],
    ),
    Form(
        "H05",
        AGRICULTURE,
        "2026年第四季度石脚镇农业生产和农村经营主体情况统计表",
        "quarter",
        "community",
        keys=["序号", "村名"],
        subtitle=["填报单位（盖章）：石脚镇农业服务中心"],
        difficulty=["units_in_header", "shared_new_item", "village_rows"],
        columns=[
            Col("耕地面积", "亩", I("AREA_FARMLAND"), style="half"),
            Col("农作物播种面积", "亩", I("AGR_SOWN"), style="half"),
            Col("农户数", "户", I("POP_HOUSEHOLDS"), style="half"),
            Col("家庭农场", "家", N("community"), style="half"),
            Col("农民专业合作社", "个", N("community", "coops"), style="half"),
            Col("村集体经济收入", "万元", I("ECO_INCOME"), style="half"),
        ],
    ),
    Form(
        "H06",
        EMERGENCY,
        "大安街道燃气和消防安全检查情况月报（2026年11月）",
        "month",
        "grid",
        keys=["序号", "网格"],
        difficulty=["two_row_header", "percent", "derived_sensors"],
        columns=[
            Col("燃气用户", "户", I("SAFE_GAS_USERS"), group="燃气安全"),
            Col("入户安检率", "%", I("SAFE_GAS_CHECKED"), group="燃气安全"),
            Col("排查", "处", I("SAFE_FIRE_HAZARDS"), group="消防隐患"),
            Col("整改", "处", I("SAFE_FIRE_FIXED"), group="消防隐患"),
            Col("烟感探测器", "个", I("SAFE_SMOKE_DETECTORS")),
            Col("消防水池", "个", I("SAFE_WATER_TANKS")),
        ],
    ),
    Form(
        "H07",
        POLITICAL_LEGAL,
        "2026年11月大安街道网格化服务管理工作月报表",
        "month",
        "community",
        subtitle=["填报单位：            填报人：            填报日期："],
        difficulty=["two_row_header", "incident_flows", "grids_count"],
        columns=[
            Col("网格数", "个", I("ORG_GRIDS", dfn(subject("grids"))), group="网格"),
            Col("专职网格员", "人", I("ORG_GRID_WORKERS"), group="网格"),
            Col("上报", "件", I("GOV_INCIDENTS_REPORTED"), group="事件办理"),
            Col("办结", "件", I("GOV_INCIDENTS_CLOSED"), group="事件办理"),
            Col("按期办结", "件", I("GOV_INCIDENTS_ON_TIME"), group="事件办理"),
            Col(
                "矛盾纠纷化解",
                "件",
                I(
                    "GOV_DISPUTES_RESOLVED",
                    dfn(subject("incidents", category(*DISPUTES), time=within("closed_at"))),
                ),
            ),
            Col("平安志愿者", "人", N("community")),
        ],
    ),
    Form(
        "H08",
        STATISTICS,
        "2026年南大街街道基本单位名录情况年报",
        "year",
        "community",
        unit_row=True,
        difficulty=["unit_row", "units_by_kind", "shared_new_item"],
        columns=[
            Col(
                "企业法人",
                "个",
                I(
                    "UNIT_ENTERPRISE",
                    dfn(subject("units", unit_type("enterprise"))),
                ),
                style="row",
            ),
            Col(
                "个体经营户",
                "户",
                I(
                    "UNIT_SELF_EMPLOYED",
                    dfn(subject("units", unit_type("self_employed"))),
                ),
                style="row",
            ),
            Col(
                "学校",
                "所",
                I("UNIT_SCHOOL", dfn(subject("units", unit_type("school")))),
                style="row",
            ),
            Col(
                "医疗卫生机构",
                "个",
                I("UNIT_CLINIC", dfn(subject("units", unit_type("clinic")))),
                style="row",
            ),
            Col("农民专业合作社", "个", N("community", "coops"), style="row"),
            Col(
                "从业人员",
                "人",
                I("UNIT_EMPLOYEES", dfn(subject("units", measure={"sum": "employees"}))),
                style="row",
            ),
            Col(
                "户籍人口",
                "人",
                I("POP_REGISTERED", dfn(residents(registration("registered")))),
                style="row",
            ),
        ],
    ),
    Form(
        "H09",
        YOUTH,
        "2026年下半年陈食街道青少年基本情况统计表",
        "half_year",
        "community",
        keys=["序号", "村（社区）"],
        difficulty=["age_bands", "其中", "mostly_new"],
        columns=[
            Col(
                "未成年人",
                "人",
                I("POP_UNDER_18", dfn(residents(age("<", 18))), ind("POP_CHILDREN")),
            ),
            Col("其中：14周岁以下", "人", I("POP_AGE_0_14", dfn(residents(age("<=", 14))))),
            Col(
                "留守儿童",
                "人",
                I("POP_LEFT_BEHIND", dfn(residents(tag("left_behind_child")))),
            ),
            Col("共青团员", "人", N("community")),
            Col("青年志愿者", "人", N("community")),
        ],
    ),
    Form(
        "H10",
        WOMEN,
        "2026年11月玉屏社区妇女儿童工作情况月报表",
        "month",
        "grid",
        keys=["序号", "网格"],
        top_blank=1,
        difficulty=["blank_row_above", "mostly_new"],
        columns=[
            Col("育龄妇女", "人", D(CHILDBEARING, ind("POP_CHILDBEARING")), style="half"),
            Col("孕产妇", "人", D(residents(tag("pregnant"))), style="half"),
            Col("新生儿", "人", I("POP_BIRTHS"), style="half"),
            Col("单亲困难母亲", "人", N("grid"), style="half"),
            Col("家庭矛盾调处", "件", N("grid"), style="half"),
        ],
    ),
    Form(
        "H11",
        DISABLED,
        "茶山竹海街道残疾人基本情况统计表（2026年第四季度）",
        "quarter",
        "community",
        difficulty=["two_row_header", "tag_levels", "其中"],
        columns=[
            Col("残疾人总数", "人", I("POP_DISABLED", dfn(residents(tag("disabled"))))),
            Col(
                "一级",
                "人",
                I("POP_DISABLED_L1", dfn(residents(tag("disabled", "一级")))),
                group="其中重度残疾",
            ),
            Col(
                "二级",
                "人",
                I("POP_DISABLED_L2", dfn(residents(tag("disabled", "二级")))),
                group="其中重度残疾",
            ),
            Col("低保残疾人", "人", D(residents(tag("disabled"), tag("low_income")))),
            Col("残疾人就业", "人", N("community")),
        ],
    ),
    Form(
        "H12",
        URBAN,
        "2026年11月中山路街道市容环境和城市部件巡查情况统计表",
        "month",
        "grid",
        keys=["序号", "社区", "网格"],
        difficulty=["two_row_header", "incident_categories"],
        columns=[
            Col(
                "占道经营",
                "起",
                D(subject("incidents", category("030101"), time=within("reported_at"))),
                group="发现问题",
            ),
            Col(
                "暴露垃圾",
                "处",
                D(subject("incidents", category("030301"), time=within("reported_at"))),
                group="发现问题",
            ),
            Col(
                "路灯不亮",
                "处",
                D(subject("incidents", category("010201"), time=within("reported_at"))),
                group="发现问题",
            ),
            Col("卫生检查", "次", I("GOV_SANITATION")),
            Col("视频监控", "个", I("SAFE_CAMERAS")),
            Col("公厕", "座", N("grid")),
        ],
    ),
]

REFUSALS = [
    Refusal(
        "H13",
        MARKET,
        "numbers_only",
        [[(r * 11 + c * 5) % 83 + 2 for c in range(5)] for r in range(12)],
    ),
    Refusal(
        "H14",
        ORGANISATION,
        "no_header",
        [["第四季度党员发展情况"], []]
        + [[f"第{n}网格", (n * 7) % 13, (n * 2) % 5] for n in range(1, 8)],
    ),
]
