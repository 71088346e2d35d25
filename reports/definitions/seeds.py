"""The indicators the platform defines as data out of the box (issue #17): what departments'
forms ask most that the 一标三实 base can count, so nobody types it. Created after migrate by
reports.services.indicators.sync_defined (existing rows are left as the district edited
them). Items the foundation already computes in code (households, residents, 低保对象, 独居,
残疾人, 退役军人, grid workers, incidents reported/closed) are not repeated: two items meaning
one thing would split the departments' columns. The age bands are by age on the period's last
day; POP_ELDERLY and POP_CHILDREN count the tags elderly and child, which a district may set
by other rules (service eligibility), so they stay.

Each: (code, name, unit, group, aliases, definition)."""

from __future__ import annotations


def residents(*where, measure="count") -> dict:
    return {"subject": "residents", "where": list(where), "measure": measure, "time": "stock"}


def age(op: str, value) -> dict:
    return {"field": "age", "op": op, "value": value}


def tagged(code: str, level: str | None = None) -> dict:
    condition = {"field": "tags", "op": "has", "value": code}
    if level:
        condition["level"] = level
    return condition


def registration(kind: str) -> dict:
    return {"field": "registration", "op": "=", "value": kind}


def counted(subject: str, *where, measure="count") -> dict:
    return {"subject": subject, "where": list(where), "measure": measure, "time": "stock"}


def within(subject: str, date: str, *where) -> dict:
    return {"subject": subject, "where": list(where), "measure": "count", "time": {"within": date}}


def of_type(field: str, *codes: str) -> dict:
    if len(codes) == 1:
        return {"field": field, "op": "=", "value": codes[0]}
    return {"field": field, "op": "in", "value": list(codes)}


DISPUTES = of_type("category", "070101", "070201", "070401")  # 邻里, 欠薪, 物业纠纷
HAZARDS = of_type("category", "06")  # 安全隐患 and every class under it
CLOSED = {"field": "status", "op": "in", "value": ["closed", "assessed"]}

LEVELS = ["一级", "二级", "三级", "四级"]

SEEDS = [
    # ---- residents by age on the period's last day -----------------------------------
    (
        "POP_AGE_80",
        "80岁以上老年人数",
        "人",
        "population",
        ["80周岁以上老人", "80岁以上老人", "高龄老人数", "八十岁以上老人"],
        residents(age(">=", 80)),
    ),
    (
        "POP_AGE_60",
        "60周岁及以上人口",
        "人",
        "population",
        ["60岁以上人口", "60周岁以上人口数", "60岁及以上老年人口"],
        residents(age(">=", 60)),
    ),
    (
        "POP_AGE_65",
        "65周岁及以上人口",
        "人",
        "population",
        ["65岁以上老年人", "65岁以上人口", "65周岁以上老人"],
        residents(age(">=", 65)),
    ),
    (
        "POP_AGE_0_14",
        "0-14岁人口",
        "人",
        "population",
        ["0至14岁人口", "0~14岁儿童", "14岁以下儿童", "少年儿童人口"],
        residents(age("between", [0, 14])),
    ),
    (
        "POP_UNDER_18",
        "未成年人数（不满18周岁）",
        "人",
        "population",
        ["18岁以下人口", "不满18周岁人口", "18周岁以下未成年人"],
        residents(age("<", 18)),
    ),
    # ---- registration --------------------------------------------------------------
    (
        "POP_REGISTERED",
        "户籍人口数",
        "人",
        "population",
        ["户籍人口", "本地户籍人口", "户籍人数"],
        residents(registration("registered")),
    ),
    (
        "POP_FLOATING",
        "流动人口数",
        "人",
        "population",
        ["流动人口", "外来人口", "暂住人口", "流入人口"],
        residents(registration("floating")),
    ),
    (
        "POP_OVERSEAS",
        "境外人员数",
        "人",
        "population",
        ["境外人员", "境外来华人员", "外籍人员"],
        residents(registration("overseas")),
    ),
    # ---- care and key groups -------------------------------------------------------
    (
        "HH_LOW_INCOME",
        "低保户数",
        "户",
        "population",
        ["低保户", "城乡低保户数", "最低生活保障户数"],
        residents(tagged("low_income"), measure={"distinct": "household"}),
    ),
    (
        "POP_EXTREME_POVERTY",
        "特困人员数",
        "人",
        "population",
        ["特困供养人员", "特困人员", "五保户人数"],
        residents(tagged("extreme_poverty")),
    ),
    (
        "POP_LEFT_BEHIND",
        "留守儿童数",
        "人",
        "population",
        ["留守儿童", "农村留守儿童"],
        residents(tagged("left_behind_child")),
    ),
    (
        "POP_EMPTY_NEST",
        "空巢老人数",
        "人",
        "population",
        ["空巢老人"],
        residents(tagged("empty_nest")),
    ),
    *[
        (
            f"POP_DISABLED_L{i}",
            f"{level}残疾人数",
            "人",
            "population",
            [f"{level}残疾", f"残疾等级{level}人数", f"{level}伤残人数"],
            residents(tagged("disabled", level)),
        )
        for i, level in enumerate(LEVELS, start=1)
    ],
    (
        "POP_PARTY",
        "党员数",
        "人",
        "population",
        ["党员人数", "中共党员数", "在册党员"],
        residents(tagged("party_member")),
    ),
    (
        "POP_MILITARY_FAMILY",
        "军属人数",
        "人",
        "population",
        ["军属", "现役军人家属"],
        residents(tagged("military_family")),
    ),
    (
        "POP_ORPHANS",
        "孤儿数",
        "人",
        "population",
        ["孤儿", "孤儿人数"],
        residents(tagged("orphan")),
    ),
    (
        "POP_UNEMPLOYED",
        "失业人员数",
        "人",
        "population",
        ["失业人员", "登记失业人员"],
        residents(tagged("unemployed")),
    ),
    (
        "POP_COMMUNITY_CORRECTION",
        "社区矫正对象数",
        "人",
        "population",
        ["社区矫正人员", "社区矫正对象"],
        residents(tagged("community_correction")),
    ),
    (
        "POP_RELEASED",
        "刑满释放人员数",
        "人",
        "population",
        ["刑满释放人员", "安置帮教对象"],
        residents(tagged("released")),
    ),
    (
        "POP_DRUG_REHAB",
        "社区戒毒康复人员数",
        "人",
        "population",
        ["社区戒毒社区康复人员", "吸毒人员"],
        residents(tagged("drug_user")),
    ),
    (
        "POP_MENTAL",
        "严重精神障碍患者数",
        "人",
        "population",
        ["严重精神障碍患者", "精神障碍患者"],
        residents(tagged("mental_disorder")),
    ),
    # ---- buildings -----------------------------------------------------------------
    (
        "BLD_TOTAL",
        "实有房屋数",
        "栋",
        "estates",
        ["房屋栋数", "楼栋数", "实有房屋", "房屋总数"],
        counted("buildings"),
    ),
    *[
        (
            f"BLD_{use.upper()}",
            name,
            "栋",
            "estates",
            aliases,
            counted("buildings", of_type("use", use)),
        )
        for use, name, aliases in [
            ("residential", "住宅楼栋数", ["住宅房屋", "住宅楼数", "居民楼栋数"]),
            ("commercial", "商业楼栋数", ["商业用房", "商业房屋"]),
            ("mixed", "商住混合楼栋数", ["商住楼", "商住两用房屋"]),
            ("public", "公共建筑数", ["公共建筑", "公建房屋"]),
            ("industrial", "工业厂房数", ["厂房", "工业用房"]),
        ]
    ],
    # ---- units ---------------------------------------------------------------------
    (
        "UNIT_TOTAL",
        "实有单位数",
        "家",
        "resident_orgs",
        ["实有单位", "单位总数", "辖区单位数"],
        counted("units"),
    ),
    *[
        (
            f"UNIT_{code.upper()}",
            name,
            unit,
            "resident_orgs",
            aliases,
            counted("units", of_type("type", code)),
        )
        for code, name, unit, aliases in [
            ("enterprise", "企业数", "家", ["企业", "辖区企业数", "企业户数"]),
            ("self_employed", "个体工商户数", "户", ["个体工商户", "个体户数"]),
            ("shop", "商铺数", "家", ["沿街商铺", "门店数", "商铺"]),
            ("school", "学校数", "所", ["学校", "中小学校及幼儿园数", "教育机构数"]),
            ("clinic", "医疗机构数", "家", ["医疗机构", "医疗卫生机构数", "诊所及医院数"]),
            ("restaurant", "餐饮单位数", "家", ["餐饮店", "餐饮企业数", "餐馆数"]),
            ("hotel", "宾馆数", "家", ["旅馆数", "宾馆酒店数", "住宿场所"]),
            ("party_org", "党组织数", "个", ["基层党组织数", "党组织"]),
            ("social_org", "社会组织数", "个", ["社会组织", "社区社会组织数"]),
        ]
    ],
    (
        "UNIT_EMPLOYEES",
        "单位从业人员数",
        "人",
        "resident_orgs",
        ["从业人员数", "从业人数", "职工人数"],
        counted("units", measure={"sum": "employees"}),
    ),
    # ---- incidents: flows in the period --------------------------------------------
    (
        "GOV_DISPUTES_RECEIVED",
        "矛盾纠纷受理数",
        "件",
        "governance",
        ["受理矛盾纠纷", "排查矛盾纠纷数", "矛盾纠纷排查数", "矛盾纠纷件数"],
        within("incidents", "reported_at", DISPUTES),
    ),
    (
        "GOV_DISPUTES_RESOLVED",
        "矛盾纠纷化解数",
        "件",
        "governance",
        ["调解成功数", "化解矛盾纠纷", "矛盾纠纷调处数", "已化解矛盾纠纷"],
        within("incidents", "closed_at", DISPUTES, CLOSED),
    ),
    (
        "GOV_HAZARDS_FOUND",
        "安全隐患排查数",
        "处",
        "governance",
        ["排查安全隐患", "发现安全隐患", "隐患排查数", "排查隐患数"],
        within("incidents", "reported_at", HAZARDS),
    ),
    (
        "GOV_HAZARDS_FIXED",
        "安全隐患整改数",
        "处",
        "governance",
        ["已整改隐患", "整改安全隐患", "隐患整改数", "整改隐患数"],
        within("incidents", "closed_at", HAZARDS, CLOSED),
    ),
    # ---- the grids themselves --------------------------------------------------------
    (
        "ORG_GRIDS",
        "网格数",
        "个",
        "organisation",
        ["网格数量", "划分网格数", "网格个数"],
        counted("grids"),
    ),
]
