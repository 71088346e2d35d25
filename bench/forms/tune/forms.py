"""The tune half of the forms set: the matcher may be tuned on these (and only these)."""

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
TRANSPORT = ("transport", "区交通局")
FORESTRY = ("forestry", "区林业局")
EMERGENCY = ("emergency", "区应急管理局")
POLITICAL_LEGAL = ("political-legal", "区委政法委")
MARKET = ("market", "区市场监管局")
VETERANS = ("veterans", "区退役军人事务局")
DISABLED = ("disabled-federation", "区残联")
HOUSING = ("housing", "区住房城乡建委")
STATISTICS = ("statistics", "区统计局")
URBAN = ("urban-management", "区城市管理局")

HOUSEHOLDS = {"distinct": "household"}

FORMS = [
    Form(
        "T01",
        CIVIL,
        "2026年11月胜利路街道城乡低保及特困供养对象情况统计表",
        "month",
        "community",
        keys=["序号", "村（社区）"],
        subtitle=["填报单位（盖章）：胜利路街道社会事务办            填报日期：2026年12月3日"],
        notes=["注：1.本表每月5日前报街道社会事务办；2.低保人数含城市低保和农村低保。"],
        difficulty=["two_row_header", "其中", "units_in_header"],
        columns=[
            Col(
                "低保户数",
                "户",
                I("HH_LOW_INCOME", dfn(residents(tag("low_income"), measure=HOUSEHOLDS))),
                group="最低生活保障",
            ),
            Col(
                "低保人数",
                "人",
                I("POP_LOW_INCOME", dfn(residents(tag("low_income")))),
                group="最低生活保障",
            ),
            Col(
                "其中：残疾人",
                "人",
                D(residents(tag("low_income"), tag("disabled"))),
                group="最低生活保障",
            ),
            Col(
                "特困供养人员",
                "人",
                I("POP_EXTREME_POVERTY", dfn(residents(tag("extreme_poverty")))),
            ),
            Col("临时救助", "人次", N("community", "temp_relief")),
            Col("低保金发放", "万元", N("community")),
        ],
    ),
    Form(
        "T02",
        POLICE,
        "胜利路街道实有人口情况统计表（2026年第四季度）",
        "quarter",
        "grid",
        keys=["序号", "社区", "网格"],
        subtitle=["填报单位：胜利路派出所（社区警务室）"],
        notes=["注：实有人口=户籍人口+流动人口+境外人员。"],
        unit_row=True,
        difficulty=["unit_row", "two_row_header", "合计_leaf"],
        columns=[
            Col("户数", "户", I("POP_HOUSEHOLDS"), style="row"),
            Col("合计", "人", I("POP_RESIDENTS"), group="实有人口", style="row"),
            Col(
                "户籍人口",
                "人",
                I("POP_REGISTERED", dfn(residents(registration("registered")))),
                group="实有人口",
                style="row",
            ),
            Col(
                "流动人口",
                "人",
                I("POP_FLOATING", dfn(residents(registration("floating")))),
                group="实有人口",
                style="row",
            ),
            Col(
                "境外人员",
                "人",
                I("POP_OVERSEAS", dfn(residents(registration("overseas")))),
                group="实有人口",
                style="row",
            ),
            Col("出租房屋", "套", I("EST_RENTALS"), style="row"),
        ],
    ),
    Form(
        "T03",
        HEALTH,
        "2026年11月份萱花社区基本公共卫生服务重点人群情况月报表",
        "month",
        "grid",
        keys=["序号", "网格名称"],
        number_row=True,
        difficulty=["number_row", "age_bands", "其中"],
        columns=[
            Col("常住人口", "人", I("POP_RESIDENTS"), style="half"),
            Col(
                "65岁及以上老年人",
                "人",
                I("POP_AGE_65", dfn(residents(age(">=", 65)))),
                style="half",
            ),
            Col("0-6岁儿童", "人", D(residents(age("between", [0, 6]))), style="half"),
            Col("孕产妇", "人", D(residents(tag("pregnant"))), style="half"),
            Col(
                "严重精神障碍患者",
                "人",
                I("POP_MENTAL", dfn(residents(tag("mental_disorder")))),
                style="half",
            ),
            Col("家庭医生签约人数", "人", I("POP_FAMILY_DOCTOR"), style="half"),
            Col("其中：重点人群签约", "人", N("grid"), style="half"),
        ],
    ),
    Form(
        "T04",
        ORGANISATION,
        "中山路街道2026年度村（社区）党组织和网格力量配备情况统计表",
        "year",
        "community",
        keys=["序号", "村（社区）名称"],
        subtitle=["填报单位：中山路街道党工委（盖章）    填报时间：2026年12月"],
        difficulty=["two_row_header", "yes_no", "shared_new_item"],
        columns=[
            Col("网格数", "个", I("ORG_GRIDS", dfn(subject("grids"))), group="网格设置"),
            Col("专职网格员", "人", I("ORG_GRID_WORKERS"), group="网格设置"),
            Col("网格党支部", "个", N("community", "grid_party_branch"), group="网格设置"),
            Col(
                "党员总数",
                "人",
                I("POP_PARTY", dfn(residents(tag("party_member")))),
                group="骨干力量",
            ),
            Col(
                "楼栋长（单元长）", "人", I("ORG_BUILDING_LEADERS"), group="骨干力量", style="half"
            ),
            Col("两委班子成员", "人", I("LEAD_COMMITTEE"), group="骨干力量"),
            Col("书记主任“一肩挑”", "", I("LEAD_SECRETARY_CHAIR"), style="none"),
        ],
    ),
    Form(
        "T05",
        TRANSPORT,
        "2026年度五间镇农村公路及客运站点情况统计表",
        "year",
        "community",
        keys=["序号", "行政村"],
        notes=["说明：里程按2026年底农村公路普查数据填报。"],
        difficulty=["units_after_slash", "其中", "mostly_new"],
        columns=[
            Col("农村公路里程", "公里", I("TRANS_RURAL_ROADS"), style="slash"),
            Col("其中：硬化路", "公里", N("community"), style="slash"),
            Col("通客车村民小组", "个", N("community"), style="slash"),
            Col("招呼站", "个", N("community"), style="slash"),
            Col("桥梁", "座", N("community"), style="slash"),
            Col("路灯", "根", N("community"), style="half"),
        ],
    ),
    Form(
        "T06",
        FORESTRY,
        "五间镇森林防灭火工作情况月报表（2026年11月）",
        "month",
        "grid",
        keys=["序号", "村", "网格"],
        top_blank=1,
        difficulty=["units_after_slash", "blank_row_above"],
        columns=[
            Col("林地面积", "亩", I("AREA_FOREST"), style="slash"),
            Col("护林员", "人", I("SAFE_RANGERS")),
            Col("巡山护林", "次", I("SAFE_FOREST_PATROLS")),
            Col("野外违规用火", "起", N("grid")),
            Col("防火宣传牌", "块", N("grid")),
            Col("语音广播杆", "根", I("SAFE_VOICE_POLES")),
        ],
    ),
    Form(
        "T07",
        EMERGENCY,
        "胜利路街道安全隐患排查整治情况统计表",
        "month",
        "community",
        subtitle=["统计时间：2026年11月1日—11月30日        填报单位："],
        difficulty=["period_in_subtitle", "two_row_header", "incident_flows"],
        columns=[
            Col(
                "排查隐患",
                "处",
                I(
                    "GOV_HAZARDS_FOUND",
                    dfn(subject("incidents", category("06"), time=within("reported_at"))),
                ),
                group="安全隐患",
            ),
            Col(
                "已整改",
                "处",
                I(
                    "GOV_HAZARDS_FIXED",
                    dfn(subject("incidents", category("06"), time=within("closed_at"))),
                ),
                group="安全隐患",
            ),
            Col("整改率", "%", N("community"), group="安全隐患"),
            Col("安全生产检查", "次", I("SAFE_INSPECTIONS")),
            Col(
                "生产经营单位",
                "家",
                I(
                    "UNIT_ENTERPRISE",
                    dfn(subject("units", unit_type("enterprise"))),
                ),
            ),
        ],
    ),
    Form(
        "T08",
        POLITICAL_LEGAL,
        "2026年11月中山路街道矛盾纠纷排查化解及特殊人群服务管理情况统计表",
        "month",
        "community",
        subtitle=["填报单位：            填报日期：    年  月  日"],
        difficulty=["two_row_header", "其中", "incident_flows", "shared_new_item"],
        columns=[
            Col(
                "排查矛盾纠纷",
                "件",
                I(
                    "GOV_DISPUTES_RECEIVED",
                    dfn(subject("incidents", category(*DISPUTES), time=within("reported_at"))),
                ),
                group="矛盾纠纷",
            ),
            Col(
                "其中：邻里纠纷",
                "件",
                D(subject("incidents", category("070101"), time=within("reported_at"))),
                group="矛盾纠纷",
            ),
            Col(
                "化解",
                "件",
                I(
                    "GOV_DISPUTES_RESOLVED",
                    dfn(subject("incidents", category(*DISPUTES), time=within("closed_at"))),
                ),
                group="矛盾纠纷",
            ),
            Col(
                "社区矫正对象",
                "人",
                I("POP_COMMUNITY_CORRECTION", dfn(residents(tag("community_correction")))),
                group="特殊人群",
            ),
            Col(
                "刑满释放人员",
                "人",
                I("POP_RELEASED", dfn(residents(tag("released")))),
                group="特殊人群",
            ),
            Col(
                "社区戒毒康复人员",
                "人",
                I("POP_DRUG_REHAB", dfn(residents(tag("drug_user")))),
                group="特殊人群",
            ),
            Col("网格党组织", "个", N("community", "grid_party_branch")),
        ],
    ),
    Form(
        "T09",
        MARKET,
        "胜利路街道市场主体和食品安全监管情况统计表（2026年第四季度）",
        "quarter",
        "community",
        unit_row=True,
        difficulty=["unit_row", "units_by_kind"],
        columns=[
            Col(
                "企业",
                "家",
                I(
                    "UNIT_ENTERPRISE",
                    dfn(subject("units", unit_type("enterprise"))),
                ),
                style="row",
            ),
            Col(
                "个体工商户",
                "户",
                I(
                    "UNIT_SELF_EMPLOYED",
                    dfn(subject("units", unit_type("self_employed"))),
                ),
                style="row",
            ),
            Col(
                "餐饮服务单位",
                "家",
                I("UNIT_RESTAURANT", dfn(subject("units", unit_type("restaurant")))),
                style="row",
            ),
            Col("农贸市场", "个", N("community"), style="row"),
            Col("食品安全检查", "次", N("community"), style="row"),
            Col(
                "从业人员",
                "人",
                I("UNIT_EMPLOYEES", dfn(subject("units", measure={"sum": "employees"}))),
                style="row",
            ),
        ],
    ),
    Form(
        "T10",
        VETERANS,
        "2026年下半年中山路街道退役军人及优抚对象情况统计表",
        "half_year",
        "community",
        difficulty=["households_of_tag", "其中"],
        columns=[
            Col("退役军人", "人", I("POP_VETERANS", dfn(residents(tag("veteran"))))),
            Col("军属", "户", D(residents(tag("military_family"), measure=HOUSEHOLDS))),
            Col("其中：烈属", "户", N("community")),
            Col("退役军人服务站", "个", N("community")),
            Col("走访慰问", "人次", N("community")),
        ],
    ),
    Form(
        "T11",
        DISABLED,
        "萱花社区持证残疾人基本情况月报（2026年11月）",
        "month",
        "grid",
        keys=["序号", "网格"],
        subtitle=["填报单位：萱花社区居委会                单位：人"],
        difficulty=["unit_in_subtitle", "two_row_header", "tag_levels", "合计_leaf"],
        columns=[
            Col("合计", "人", I("POP_DISABLED"), group="持证残疾人", style="none"),
            *[
                Col(
                    level,
                    "人",
                    I(f"POP_DISABLED_L{n}", dfn(residents(tag("disabled", level)))),
                    group="持证残疾人",
                    style="none",
                )
                for n, level in enumerate(["一级", "二级", "三级", "四级"], 1)
            ],
            Col("享受两项补贴", "人", N("grid"), style="none"),
        ],
    ),
    Form(
        "T12",
        HOUSING,
        "2026年度大安街道房屋安全隐患排查情况统计表",
        "year",
        "community",
        unit_row=True,
        difficulty=["unit_row", "其中", "buildings"],
        columns=[
            Col(
                "房屋总数",
                "栋",
                I("BLD_TOTAL", dfn(subject("buildings"))),
                style="row",
            ),
            Col(
                "其中：住宅",
                "栋",
                I("BLD_RESIDENTIAL", dfn(subject("buildings", cond("use", "=", "residential")))),
                style="row",
            ),
            Col("农村自建房", "栋", N("community"), style="row"),
            Col("C、D级危房", "栋", N("community"), style="row"),
            Col("住宅小区", "个", I("EST_ESTATES"), style="row"),
            Col("在用电梯", "部", I("EST_ELEVATORS"), style="row"),
        ],
    ),
]

REFUSALS = [
    Refusal(
        "T13",
        STATISTICS,
        "numbers_only",
        [[(r * 7 + c * 13) % 97 + 1 for c in range(6)] for r in range(9)],
    ),
    Refusal(
        "T14",
        URBAN,
        "no_header",
        [["2026年11月市容巡查情况"]]
        + [
            [name, (n * 5) % 17, (n * 3) % 11, n % 4]
            for n, name in enumerate(
                ["红旗社区", "萱花社区", "兴龙湖社区", "玉屏社区", "新建社区"], 3
            )
        ],
    ),
]
