"""The default catalogue of incident categories and the three whistle classes, as data,
seeded by migration 0003 and again by the demo (a test that empties the database empties
the seeded rows too).

Codes follow the digital urban management standard (GB/T 30428.2 城市部件和事件分类): a
2-digit top class (大类) and 6-digit subcategories (大类 + 小类 + 细类). Deadlines are hours
per step and priority; a step a category leaves out falls back to GRIDLINE_STEP_HOURS.
Departments stay empty: departments belong to a district and are linked when one is set up
(the demo links them to its own). Seeded with get_or_create by code: an operator's edits
are kept, and reversing removes only the rows this migration made and nothing refers to.
"""


def hours(register, dispatch, acknowledge, feed_back, verify, close):
    return {
        "register": register,
        "dispatch": dispatch,
        "acknowledge": acknowledge,
        "feed_back": feed_back,
        "verify": verify,
        "close": close,
    }


# Deadline profiles: normal / urgent / critical. Hazards are short at every step; social
# matters (mediation, services) take longer to handle than to register.
ROUTINE = {
    "normal": hours(2, 4, 4, 72, 24, 24),
    "urgent": hours(1, 2, 2, 24, 8, 8),
    "critical": hours(0.5, 1, 1, 8, 4, 4),
}
QUICK = {  # repairs a crew does in a day: lights, covers, potholes
    "normal": hours(2, 4, 4, 48, 24, 24),
    "urgent": hours(1, 1, 2, 12, 4, 8),
    "critical": hours(0.5, 0.5, 1, 4, 2, 4),
}
HAZARD = {  # safety: escalated when a step is overdue
    "normal": hours(1, 2, 2, 24, 8, 12),
    "urgent": hours(0.5, 1, 1, 8, 4, 4),
    "critical": hours(0.25, 0.5, 0.5, 4, 2, 2),
}
SOCIAL = {  # disputes and services: mediation takes days
    "normal": hours(4, 8, 8, 120, 24, 24),
    "urgent": hours(2, 4, 4, 48, 12, 12),
    "critical": hours(1, 2, 2, 24, 8, 8),
}
HOTLINE = {  # 12345: the hotline's own clock (answer within 5 working days)
    "normal": hours(2, 4, 8, 120, 24, 24),
    "urgent": hours(1, 2, 4, 48, 12, 12),
    "critical": hours(0.5, 1, 2, 24, 8, 8),
}

# (code, name, deadlines, escalate when overdue)
TOP = [
    ("01", "公共设施", QUICK, False),
    ("02", "道路交通", ROUTINE, False),
    ("03", "市容环境", ROUTINE, False),
    ("04", "园林绿化", ROUTINE, False),
    ("05", "宣传广告", ROUTINE, False),
    ("06", "安全隐患", HAZARD, True),
    ("07", "社会事务", SOCIAL, False),
    ("08", "12345热线", HOTLINE, False),
]
SUB = [
    ("010101", "井盖缺失", HAZARD, True),
    ("010102", "井盖破损", QUICK, False),
    ("010201", "路灯不亮", QUICK, False),
    ("010301", "供水管道破裂", HAZARD, True),
    ("010401", "公厕设施损坏", QUICK, False),
    ("020101", "路面破损坑洼", QUICK, False),
    ("020201", "交通信号灯故障", HAZARD, True),
    ("020301", "机动车乱停放", ROUTINE, False),
    ("020401", "校车拥挤/公交运力不足", SOCIAL, False),
    ("030101", "占道经营", ROUTINE, False),
    ("030201", "乱堆物料", ROUTINE, False),
    ("030301", "暴露垃圾", ROUTINE, False),
    ("030401", "违章搭建", ROUTINE, False),
    ("030501", "噪声扰民", ROUTINE, False),
    ("030601", "油烟污染", ROUTINE, False),
    ("040101", "绿地破坏", ROUTINE, False),
    ("040201", "树木倒伏/枯死", HAZARD, True),
    ("050101", "非法小广告", ROUTINE, False),
    ("050201", "广告牌匾破损", HAZARD, True),
    ("060101", "消防通道堵塞", HAZARD, True),
    ("060201", "高空抛物", HAZARD, True),
    ("060301", "燃气泄漏隐患", HAZARD, True),
    ("060401", "危房/边坡隐患", HAZARD, True),
    ("060501", "电动车楼道充电", HAZARD, True),
    ("070101", "邻里纠纷", SOCIAL, False),
    ("070201", "欠薪纠纷", SOCIAL, False),
    ("070301", "特殊人群帮扶", SOCIAL, False),
    ("070401", "物业纠纷", SOCIAL, False),
    ("080101", "12345热线转办", HOTLINE, False),
    ("080201", "政策咨询", HOTLINE, False),
]

# 吹哨快响: 3 classes of matters. The hours are ours (the rule's figures are not published):
# an emergency (a gas leak, a collapse) needs a department on the phone within half an hour
# and the danger handled within a day; an important matter (a school's bus, arrears of
# wages) one shift's wait to report for duty (2 h) and three days to report back; a general
# one the next working day and a week, the usual 12345 pace.
WHISTLE = [
    ("emergency", "紧急类", 0.5, 24),
    ("important", "重要类", 2, 72),
    ("general", "一般类", 24, 168),
]


def seed(Category, WhistleClass) -> None:
    """Create the categories and classes that are missing; existing rows are kept as edited."""
    tops = {}
    for code, name, deadlines, escalate in TOP:
        tops[code], _ = Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "deadlines": deadlines, "escalate_when_overdue": escalate},
        )
    for code, name, deadlines, escalate in SUB:
        Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": tops[code[:2]],
                "deadlines": deadlines,
                "escalate_when_overdue": escalate,
            },
        )
    for code, name, acknowledge, report_back in WHISTLE:
        WhistleClass.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "acknowledge_hours": acknowledge,
                "report_back_hours": report_back,
            },
        )
