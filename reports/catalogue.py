"""The demo district's 一表通 catalogue, as data: the indicators its communities and grids
collect, the rules between them, and the line departments' forms rebuilt as templates.

Yongchuan's departments each sent the streets their own forms (seeds: a street officer from
10+ forms a month to 2; a Lhasa community 280+ forms a year). The forms below ask again and
again for the same base data under their own wording (户数 / 总户数 / 实有户数 / 农户数 ...):
that overlap is the point. On the platform households, residents, the tagged groups,
incidents and visits are derived (nobody types them), and every collected item is entered
once per unit and period whatever the number of forms that need it.

`reports.services.demo` loads this; `tests/test_report_demo.py` checks that the burden falls
by at least 60 %. Derived indicator codes (POP_RESIDENTS ...) are created by sync_derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Groups beyond the seven blocks and governance (reports.services.indicators.GROUPS).
EXTRA_GROUPS = [
    ("safety", "安全应急", 90),
    ("rural", "农林交通", 100),
]

# Departments of the demo district: the first seven are created by grids.services.demo
# (same codes and names); the others are added by reports.services.demo.
DEPARTMENTS = [
    ("civil-affairs", "区民政局"),
    ("transport", "区交通局"),
    ("forestry", "区林业局"),
    ("emergency", "区应急管理局"),
    ("urban-management", "区城市管理局"),
    ("health", "区卫生健康委"),
    ("public-security", "区公安分局"),
    ("agriculture", "区农业农村委"),
    ("organisation", "区委组织部"),
    ("housing", "区住房城乡建委"),
    ("market", "区市场监管局"),
    ("statistics", "区统计局"),
    ("veterans", "区退役军人事务局"),
]


@dataclass(frozen=True)
class CollectedIndicator:
    code: str
    name: str
    unit: str
    group: str
    value_type: str = "integer"
    level: str = "grid"
    period_type: str = "month"
    aggregation: str = "sum"
    time_aggregation: str = "latest"  # stocks; flows say "sum"
    min_value: float | None = 0
    max_value: float | None = None
    weight: str = ""  # indicator code, for a weighted mean
    aliases: tuple[str, ...] = ()
    description: str = ""


def _i(code, name, unit, group, **kw) -> CollectedIndicator:
    return CollectedIndicator(code, name, unit, group, **kw)


INDICATORS: list[CollectedIndicator] = [
    # ---- 辖区面积 ----------------------------------------------------------------------
    _i(
        "AREA_FARMLAND",
        "耕地面积",
        "亩",
        "area",
        value_type="decimal",
        period_type="year",
        aliases=("耕地", "基本农田面积", "耕地保有量"),
        description="Cultivated land in the unit at the end of the year (三调口径).",
    ),
    _i(
        "AREA_FOREST",
        "林地面积",
        "亩",
        "area",
        value_type="decimal",
        period_type="year",
        aliases=("森林面积", "林地", "有林地面积"),
    ),
    # ---- 组织领导 ----------------------------------------------------------------------
    _i(
        "LEAD_SECRETARY_CHAIR",
        "党组织书记是否兼任居（村）委会主任",
        "",
        "leadership",
        value_type="boolean",
        level="community",
        period_type="year",
        max_value=1,
        aliases=("书记主任一肩挑", "是否一肩挑", "书记兼任主任"),
        description="Yes/no per community; a street's value counts the communities answering yes.",
    ),
    _i(
        "LEAD_COMMITTEE",
        "两委班子人数",
        "人",
        "leadership",
        level="community",
        period_type="year",
        min_value=3,
        max_value=15,
        aliases=("两委成员数", "村（居）两委人数", "两委班子成员"),
    ),
    _i(
        "LEAD_CROSS",
        "两委交叉任职人数",
        "人",
        "leadership",
        level="community",
        period_type="year",
        max_value=15,
        aliases=("交叉任职人数", "两委交叉任职"),
    ),
    # ---- 组织架构 ----------------------------------------------------------------------
    _i(
        "ORG_BUILDING_LEADERS",
        "楼栋长人数",
        "人",
        "organisation",
        period_type="quarter",
        aliases=("楼栋长（单元长）人数", "楼长人数", "院落长人数"),
    ),
    _i(
        "ORG_VOLUNTEERS",
        "志愿者人数",
        "人",
        "organisation",
        period_type="quarter",
        aliases=("注册志愿者数", "志愿服务队伍人数", "志愿者数量"),
    ),
    # ---- 小区情况 ----------------------------------------------------------------------
    _i(
        "EST_ESTATES",
        "小区数",
        "个",
        "estates",
        period_type="quarter",
        aliases=("住宅小区数", "小区（院落）数", "院落数"),
    ),
    _i(
        "EST_MANAGED",
        "物业覆盖小区数",
        "个",
        "estates",
        period_type="quarter",
        aliases=("有物业小区数", "物业服务覆盖小区数", "实施物业管理小区数"),
    ),
    _i(
        "EST_OLD",
        "老旧小区数",
        "个",
        "estates",
        period_type="quarter",
        aliases=("老旧小区（2000年前建成）数", "待改造老旧小区数"),
    ),
    _i(
        "EST_ELEVATORS",
        "电梯数",
        "部",
        "estates",
        period_type="year",
        aliases=("在用电梯数", "住宅电梯数", "电梯台数"),
    ),
    _i(
        "EST_RENTALS",
        "出租房屋数",
        "套",
        "estates",
        period_type="quarter",
        aliases=("出租屋数", "出租房屋套数", "租赁房屋数"),
    ),
    # ---- 驻地单位 ----------------------------------------------------------------------
    # ---- 人口情况 ----------------------------------------------------------------------
    _i(
        "POP_BIRTHS",
        "新生儿数",
        "人",
        "population",
        time_aggregation="sum",
        aliases=("出生人口数", "出生人数", "当月出生数"),
    ),
    _i(
        "POP_DEATHS",
        "死亡人数",
        "人",
        "population",
        time_aggregation="sum",
        aliases=("死亡人口数", "当月死亡人数"),
    ),
    _i(
        "POP_CHILDBEARING",
        "育龄妇女数",
        "人",
        "population",
        period_type="quarter",
        aliases=("15-49岁育龄妇女数", "育龄妇女人数"),
    ),
    _i(
        "POP_INSURED",
        "参保人数",
        "人",
        "population",
        aliases=("城乡居民医保参保人数", "基本医疗保险参保人数", "医保参保人数"),
    ),
    _i(
        "POP_FAMILY_DOCTOR",
        "家庭医生签约人数",
        "人",
        "population",
        aliases=("家医签约人数", "家庭医生签约服务人数", "签约居民数"),
    ),
    _i(
        "POP_OLD_AGE_ALLOWANCE",
        "高龄津贴领取人数",
        "人",
        "population",
        aliases=("80周岁以上高龄津贴人数", "高龄补贴人数", "高龄老人数"),
    ),
    _i(
        "POP_ELDERLY_HEALTH",
        "老年人健康管理人数",
        "人",
        "population",
        period_type="quarter",
        aliases=("65岁以上老年人健康管理人数", "老年人体检人数"),
    ),
    # ---- 集体经济 ----------------------------------------------------------------------
    _i(
        "ECO_INCOME",
        "集体经济收入",
        "万元",
        "economy",
        value_type="decimal",
        level="community",
        period_type="quarter",
        time_aggregation="sum",
        aliases=("村集体经济收入", "集体经济经营性收入", "村（社区）集体收入"),
    ),
    _i(
        "ECO_ASSETS",
        "村集体资产",
        "万元",
        "economy",
        value_type="decimal",
        level="community",
        period_type="year",
        aliases=("集体资产总额", "村集体资产总额", "集体资产"),
    ),
    # ---- 安全应急 ----------------------------------------------------------------------
    _i(
        "SAFE_FIRE_HAZARDS",
        "消防隐患排查数",
        "处",
        "safety",
        time_aggregation="sum",
        aliases=("火灾隐患排查数", "消防安全隐患数", "排查消防隐患"),
    ),
    _i(
        "SAFE_FIRE_FIXED",
        "消防隐患整改数",
        "处",
        "safety",
        time_aggregation="sum",
        aliases=("火灾隐患整改数",),
    ),
    _i(
        "SAFE_INSPECTIONS",
        "安全生产检查次数",
        "次",
        "safety",
        time_aggregation="sum",
        aliases=("安全检查次数", "安全生产巡查次数", "检查生产经营单位次数"),
    ),
    _i(
        "SAFE_GAS_USERS",
        "燃气用户数",
        "户",
        "safety",
        period_type="quarter",
        aliases=("天然气用户数", "管道燃气用户数", "燃气使用户数"),
    ),
    _i(
        "SAFE_GAS_CHECKED",
        "燃气入户安检率",
        "%",
        "safety",
        value_type="percentage",
        aggregation="weighted_mean",
        weight="POP_HOUSEHOLDS",
        time_aggregation="mean",
        aliases=("燃气安全检查覆盖率", "入户安检率"),
    ),
    _i(
        "SAFE_FOREST_PATROLS",
        "森林防火巡查次数",
        "次",
        "safety",
        time_aggregation="sum",
        aliases=("森林防灭火巡查次数", "护林巡山次数", "防火巡查次数"),
    ),
    _i(
        "SAFE_RANGERS",
        "护林员人数",
        "人",
        "safety",
        period_type="year",
        aliases=("生态护林员人数", "专兼职护林员数", "护林员数"),
    ),
    _i(
        "GOV_SANITATION",
        "卫生检查次数",
        "次",
        "governance",
        time_aggregation="sum",
        aliases=("爱国卫生检查次数", "环境卫生检查次数", "市容环境卫生检查次数"),
    ),
    # ---- 农林交通 ----------------------------------------------------------------------
    _i(
        "AGR_SOWN",
        "农作物播种面积",
        "亩",
        "rural",
        value_type="decimal",
        period_type="quarter",
        time_aggregation="sum",
        aliases=("农作物总播种面积", "播种面积", "粮油作物播种面积"),
    ),
    _i(
        "TRANS_RURAL_ROADS",
        "农村公路里程",
        "公里",
        "rural",
        value_type="decimal",
        period_type="year",
        aliases=("农村公路总里程", "村道里程", "通组公路里程"),
    ),
]


@dataclass(frozen=True)
class Rule:
    code: str
    left: str
    operator: str
    right: str | None
    factor: float = 1
    constant: float = 0
    severity: str = "error"
    message: str = ""


# `left operator factor × right + constant`, checked for one unit and period.
RULES: list[Rule] = [
    Rule(
        "insured-within-residents",
        "POP_INSURED",
        "<=",
        "POP_RESIDENTS",
        message="参保人数不能超过居民人数",
    ),
    Rule(
        "family-doctor-within-residents",
        "POP_FAMILY_DOCTOR",
        "<=",
        "POP_RESIDENTS",
        message="家庭医生签约人数不能超过居民人数",
    ),
    Rule(
        "managed-within-estates",
        "EST_MANAGED",
        "<=",
        "EST_ESTATES",
        message="物业覆盖小区数不能超过小区数",
    ),
    Rule("old-within-estates", "EST_OLD", "<=", "EST_ESTATES", message="老旧小区数不能超过小区数"),
    Rule(
        "allowance-within-elderly",
        "POP_OLD_AGE_ALLOWANCE",
        "<=",
        "POP_ELDERLY",
        message="高龄津贴领取人数不能超过60岁以上老年人数",
    ),
    Rule(
        "elderly-health-within-elderly",
        "POP_ELDERLY_HEALTH",
        "<=",
        "POP_ELDERLY",
        message="老年人健康管理人数不能超过60岁以上老年人数",
    ),
    Rule(
        "fixed-within-hazards",
        "SAFE_FIRE_FIXED",
        "<=",
        "SAFE_FIRE_HAZARDS",
        message="消防隐患整改数不能超过排查数",
    ),
    Rule(
        "cross-within-committee",
        "LEAD_CROSS",
        "<=",
        "LEAD_COMMITTEE",
        message="两委交叉任职人数不能超过两委班子人数",
    ),
    Rule(
        "childbearing-within-half-residents",
        "POP_CHILDBEARING",
        "<=",
        "POP_RESIDENTS",
        factor=0.5,
        message="育龄妇女数不能超过居民人数的一半",
    ),
    # 1 km² = 1,500 亩.
    Rule(
        "farmland-within-area",
        "AREA_FARMLAND",
        "<=",
        "AREA_KM2",
        factor=1500,
        message="耕地面积不能超过辖区面积",
    ),
    Rule(
        "forest-within-area",
        "AREA_FOREST",
        "<=",
        "AREA_KM2",
        factor=1500,
        message="林地面积不能超过辖区面积",
    ),
    Rule(
        "gas-users-households",
        "SAFE_GAS_USERS",
        "<=",
        "POP_HOUSEHOLDS",
        factor=1.2,
        severity="warning",
        message="燃气用户数明显多于户数，请核实是否含商户",
    ),
]


@dataclass(frozen=True)
class Template:
    """A department's form. `columns` are (indicator code, the department's heading);
    `groups` put a heading over consecutive columns in a second header row: (heading,
    first column index, number of columns)."""

    code: str
    owner: str
    title: str
    row_level: str
    period_type: str
    due_day: int
    columns: list[tuple[str, str]]
    groups: list[tuple[str, int, int]] = field(default_factory=list)
    parent_column: bool = True  # a 所属社区/所属街道 key column


TEMPLATES: list[Template] = [
    Template(
        "civil-affairs-monthly",
        "civil-affairs",
        "永川区民政基础数据月报表",
        "grid",
        "month",
        5,
        [
            ("POP_HOUSEHOLDS", "总户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_PARTY", "党员人数"),
            ("EST_ESTATES", "小区（院落）数"),
            ("POP_ELDERLY", "60周岁以上老年人"),
            ("POP_ALONE", "其中：独居老人"),
            ("POP_OLD_AGE_ALLOWANCE", "高龄津贴领取人数"),
            ("POP_LOW_INCOME", "低保对象"),
            ("POP_DISABLED", "残疾人"),
            ("POP_CHILDREN", "未成年人"),
            ("POP_LEFT_BEHIND", "农村留守儿童"),
            ("POP_DEATHS", "死亡人数（殡葬）"),
            ("ORG_VOLUNTEERS", "志愿者人数"),
            ("GOV_VISITS", "走访困难群众人次"),
        ],
        groups=[("基本情况", 0, 4), ("老年人", 4, 3), ("困难群体", 7, 4), ("社会事务", 11, 3)],
    ),
    Template(
        "transport-quarterly",
        "transport",
        "永川区农村公路及道路交通安全网格季报表",
        "grid",
        "quarter",
        10,
        [
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_ELDERLY", "60岁以上老人（交通安全宣传对象）"),
            ("POP_CHILDREN", "中小学生及儿童"),
            ("UNIT_SCHOOL", "学校数（校车线路）"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("UNIT_SHOP", "沿街商铺数"),
            ("TRANS_RURAL_ROADS", "农村公路里程"),
            ("SAFE_INSPECTIONS", "道路交通安全检查次数"),
            ("GOV_INCIDENTS_REPORTED", "交通安全隐患上报数"),
            ("GOV_INCIDENTS_CLOSED", "已处置数"),
            ("ORG_GRID_WORKERS", "护路员（网格员）人数"),
        ],
    ),
    Template(
        "forestry-fire-monthly",
        "forestry",
        "永川区森林防灭火网格化管理月报表",
        "grid",
        "month",
        3,
        [
            ("AREA_KM2", "网格面积"),
            ("AREA_FOREST", "林地面积"),
            ("SAFE_RANGERS", "护林员人数"),
            ("SAFE_FOREST_PATROLS", "巡山护林次数"),
            ("SAFE_FIRE_HAZARDS", "火灾隐患排查处数"),
            ("SAFE_FIRE_FIXED", "隐患整改数"),
            ("POP_HOUSEHOLDS", "林区农户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_ALONE", "独居老人（野外用火重点对象）"),
            ("POP_KEY", "重点监管人员"),
            ("POP_PARTY", "党员人数"),
            ("ORG_VOLUNTEERS", "扑火志愿者人数"),
            ("GOV_INCIDENTS_REPORTED", "涉林事件上报数"),
        ],
        groups=[("林地资源", 0, 3), ("巡查排查", 3, 3), ("人员情况", 6, 6)],
    ),
    Template(
        "agriculture-quarterly",
        "agriculture",
        "永川区农村基本情况统计季报表",
        "community",
        "quarter",
        10,
        [
            ("AREA_KM2", "辖区面积"),
            ("AREA_FARMLAND", "耕地面积"),
            ("AREA_FOREST", "林地面积"),
            ("AGR_SOWN", "农作物播种面积"),
            ("POP_HOUSEHOLDS", "农户数"),
            ("POP_RESIDENTS", "农村常住人口"),
            ("POP_ELDERLY", "60岁以上人口"),
            ("POP_LOW_INCOME", "低保户人数"),
            ("POP_LEFT_BEHIND", "留守儿童数"),
            ("ECO_INCOME", "村集体经济收入"),
            ("ECO_ASSETS", "村集体资产总额"),
            ("LEAD_COMMITTEE", "村两委人数"),
            ("POP_PARTY", "党员人数"),
            ("UNIT_SELF_EMPLOYED", "农家乐及个体经营户"),
            ("SAFE_RANGERS", "护林员人数"),
        ],
    ),
    Template(
        "health-monthly",
        "health",
        "永川区基本公共卫生服务网格数据月报表",
        "grid",
        "month",
        5,
        [
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_FLOATING", "流动人口"),
            ("POP_BIRTHS", "出生人数"),
            ("POP_DEATHS", "死亡人数"),
            ("POP_CHILDBEARING", "15-49岁育龄妇女"),
            ("POP_CHILDREN", "0-17岁儿童"),
            ("POP_ELDERLY", "60岁以上老人"),
            ("POP_ELDERLY_HEALTH", "老年人健康管理人数"),
            ("POP_DISABLED", "残疾人"),
            ("POP_FAMILY_DOCTOR", "家庭医生签约人数"),
            ("POP_INSURED", "城乡居民医保参保人数"),
            ("UNIT_CLINIC", "村卫生室（诊所）数"),
            ("GOV_SANITATION", "爱国卫生检查次数"),
        ],
        groups=[("人口", 0, 3), ("人口变动", 3, 3), ("重点人群", 6, 4), ("健康服务", 10, 4)],
    ),
    Template(
        "emergency-monthly",
        "emergency",
        "永川区安全生产和应急管理网格月报表",
        "grid",
        "month",
        3,
        [
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("EST_ESTATES", "小区数"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("UNIT_ENTERPRISE", "生产经营单位数"),
            ("UNIT_SELF_EMPLOYED", "九小场所（个体户）数"),
            ("SAFE_INSPECTIONS", "安全生产检查次数"),
            ("SAFE_FIRE_HAZARDS", "消防隐患排查数"),
            ("SAFE_FIRE_FIXED", "消防隐患整改数"),
            ("SAFE_GAS_USERS", "燃气用户数"),
            ("SAFE_GAS_CHECKED", "燃气入户安检率"),
            ("SAFE_FOREST_PATROLS", "森林防火巡查次数"),
            ("POP_ALONE", "独居老人（应急转移对象）"),
            ("POP_DISABLED", "行动不便人员"),
            ("GOV_INCIDENTS_REPORTED", "安全隐患上报数"),
        ],
        groups=[("基本情况", 0, 6), ("隐患排查", 6, 6), ("应急转移重点人员", 12, 2)],
    ),
    Template(
        "organisation-yearly",
        "organisation",
        "永川区党建统领基层治理基础数据年报表",
        "community",
        "year",
        15,
        [
            ("LEAD_SECRETARY_CHAIR", "书记主任一肩挑"),
            ("LEAD_COMMITTEE", "两委班子成员"),
            ("LEAD_CROSS", "交叉任职人数"),
            ("POP_PARTY", "党员人数"),
            ("ORG_GRID_WORKERS", "专职网格员数"),
            ("ORG_BUILDING_LEADERS", "楼栋长（单元长）人数"),
            ("ORG_VOLUNTEERS", "注册志愿者数"),
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("EST_ESTATES", "小区数"),
            ("UNIT_TOTAL", "驻区单位数"),
            ("ECO_INCOME", "集体经济收入"),
            ("ECO_ASSETS", "集体资产总额"),
        ],
        groups=[("组织领导", 0, 3), ("组织架构", 3, 4), ("基本情况", 7, 4), ("集体经济", 11, 2)],
    ),
    Template(
        "public-security-monthly",
        "public-security",
        "永川区实有人口和重点人员网格月报表",
        "grid",
        "month",
        5,
        [
            ("POP_HOUSEHOLDS", "实有户数"),
            ("POP_RESIDENTS", "实有人口"),
            ("POP_FLOATING", "流动人口（暂住人口）"),
            ("EST_RENTALS", "出租房屋数"),
            ("POP_KEY", "重点人员"),
            ("POP_CHILDREN", "未成年人"),
            ("POP_ALONE", "独居老人"),
            ("UNIT_SCHOOL", "校园（幼儿园）数"),
            ("UNIT_SHOP", "沿街商铺数"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("GOV_INCIDENTS_REPORTED", "矛盾纠纷排查数"),
            ("GOV_INCIDENTS_CLOSED", "化解数"),
            ("GOV_VISITS", "重点人员走访人次"),
        ],
    ),
    Template(
        "housing-quarterly",
        "housing",
        "永川区城镇住宅小区及物业管理情况季报表",
        "grid",
        "quarter",
        10,
        [
            ("EST_ESTATES", "住宅小区数"),
            ("EST_MANAGED", "有物业小区数"),
            ("EST_OLD", "老旧小区数"),
            ("BLD_RESIDENTIAL", "住宅楼栋数"),
            ("EST_ELEVATORS", "在用电梯数"),
            ("EST_RENTALS", "出租房屋套数"),
            ("POP_HOUSEHOLDS", "住户数"),
            ("POP_RESIDENTS", "居住人口"),
            ("POP_ELDERLY", "60岁以上老人（适老化改造）"),
            ("SAFE_GAS_USERS", "管道燃气用户数"),
            ("ORG_BUILDING_LEADERS", "楼栋长人数"),
            ("GOV_INCIDENTS_REPORTED", "物业纠纷及投诉数"),
        ],
        groups=[("小区", 0, 3), ("房屋", 3, 3), ("住户", 6, 4)],
    ),
    Template(
        "market-quarterly",
        "market",
        "永川区市场主体及特种设备网格季报表",
        "grid",
        "quarter",
        10,
        [
            ("UNIT_SELF_EMPLOYED", "个体工商户数"),
            ("UNIT_ENTERPRISE", "企业数"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("UNIT_SCHOOL", "学校食堂数"),
            ("UNIT_CLINIC", "药店及诊所数"),
            ("EST_ELEVATORS", "在用电梯（特种设备）数"),
            ("EST_ESTATES", "小区数"),
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_FLOATING", "流动人口"),
            ("SAFE_INSPECTIONS", "市场主体检查次数"),
            ("GOV_INCIDENTS_REPORTED", "消费投诉及事件数"),
        ],
    ),
    Template(
        "statistics-yearly",
        "statistics",
        "永川区街道（镇）社会经济基本情况年报表",
        "street",
        "year",
        20,
        [
            ("AREA_KM2", "辖区面积"),
            ("AREA_FARMLAND", "耕地面积"),
            ("AREA_FOREST", "林地面积"),
            ("AGR_SOWN", "农作物播种面积"),
            ("POP_HOUSEHOLDS", "年末户数"),
            ("POP_RESIDENTS", "年末常住人口"),
            ("POP_FLOATING", "流动人口"),
            ("POP_BIRTHS", "出生人口"),
            ("POP_DEATHS", "死亡人口"),
            ("POP_ELDERLY", "60岁及以上人口"),
            ("POP_CHILDREN", "0-17岁人口"),
            ("EST_ESTATES", "住宅小区数"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("UNIT_ENTERPRISE", "企业法人单位数"),
            ("UNIT_SELF_EMPLOYED", "个体经营户数"),
            ("UNIT_SCHOOL", "学校数"),
            ("UNIT_CLINIC", "医疗卫生机构数"),
            ("ECO_INCOME", "村（社区）集体经济收入"),
        ],
        groups=[("土地", 0, 4), ("人口", 4, 7), ("单位及设施", 11, 6), ("经济", 17, 1)],
        parent_column=False,
    ),
    Template(
        "veterans-monthly",
        "veterans",
        "永川区退役军人服务保障网格月报表",
        "grid",
        "month",
        5,
        [
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_VETERANS", "退役军人数"),
            ("POP_ELDERLY", "60岁以上老人"),
            ("POP_DISABLED", "残疾人"),
            ("POP_LOW_INCOME", "低保对象"),
            ("POP_PARTY", "党员人数"),
            ("ORG_VOLUNTEERS", "志愿者人数"),
            ("GOV_VISITS", "走访慰问人次"),
        ],
    ),
    Template(
        "urban-management-monthly",
        "urban-management",
        "永川区城市管理网格月报表",
        "grid",
        "month",
        5,
        [
            ("AREA_KM2", "网格面积"),
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("EST_ESTATES", "小区数"),
            ("EST_MANAGED", "物业覆盖小区数"),
            ("UNIT_SHOP", "沿街门店数"),
            ("GOV_SANITATION", "市容环境卫生检查次数"),
            ("GOV_INCIDENTS_REPORTED", "城市管理事件上报数"),
            ("GOV_INCIDENTS_CLOSED", "办结数"),
            ("GOV_INCIDENTS_ON_TIME", "按期办结数"),
            ("ORG_GRID_WORKERS", "网格员人数"),
            ("ORG_VOLUNTEERS", "志愿者人数"),
        ],
    ),
    # Issue #20: the organisation department's monthly form on 双报到 party members and the
    # 微心愿 loop; every column is derived from needs and services (needs/indicators.py).
    Template(
        "organisation-needs-monthly",
        "organisation",
        "党员双报到与微心愿服务月报表",
        "community",
        "month",
        5,
        [
            ("NEEDS_RAISED", "收集群众微心愿数"),
            ("NEEDS_ACCEPTED", "纳入需求清单数"),
            ("NEEDS_DISPATCHED", "社区派单次数"),
            ("NEEDS_FULFILLED", "完成微心愿数"),
            ("NEEDS_OVERDUE", "超期未办结数"),
            ("NEED_DAYS", "平均办结天数"),
            ("PARTY_REGISTERED", "到社区报到党员数"),
            ("PARTY_SERVICES", "报到党员服务次数"),
            ("PARTY_SERVICE_HOURS", "党员服务时长（小时）"),
            ("PROVIDER_UNITS", "驻区及共建单位数"),
            ("VOLUNTEER_SERVICES", "志愿服务次数"),
        ],
        groups=[("微心愿", 0, 6), ("双报到", 6, 5)],
    ),
    Template(
        "civil-affairs-community-yearly",
        "civil-affairs",
        "永川区村（社区）基本情况年报表",
        "community",
        "year",
        15,
        [
            ("LEAD_SECRETARY_CHAIR", "书记是否兼任主任"),
            ("LEAD_COMMITTEE", "两委成员数"),
            ("POP_HOUSEHOLDS", "户数"),
            ("POP_RESIDENTS", "常住人口"),
            ("POP_ELDERLY", "老年人口（60周岁及以上）"),
            ("POP_LOW_INCOME", "低保人数"),
            ("EST_ESTATES", "小区（院落）数"),
            ("UNIT_TOTAL", "驻地单位数"),
            ("ORG_BUILDING_LEADERS", "楼栋长人数"),
            ("ECO_INCOME", "集体经济收入"),
        ],
    ),
]
