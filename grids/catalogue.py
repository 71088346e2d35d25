"""The catalogues' first entries (seeded by migration 0011; tests that flush the database
seed them again): the seven tag codes residents carried before tags became data, the care and
key-population groups departments ask about, and the unit type taxonomy. An administrator
extends them in the admin; seeding leaves existing entries as they are (get_or_create, not
update_or_create, which would undo an administrator's renaming)."""

from __future__ import annotations

DISABILITY_LEVELS = ["一级", "二级", "三级", "四级"]

# code, name, group, levels
TAG_KINDS = [
    ("elderly", "老年人", "care", []),
    ("child", "未成年人", "care", []),
    ("disabled", "残疾人", "care", DISABILITY_LEVELS),
    ("low_income", "低保对象", "care", []),
    ("extreme_poverty", "特困供养人员", "care", []),
    ("living_alone", "独居", "care", []),
    ("empty_nest", "空巢老人", "care", []),
    ("left_behind_child", "留守儿童", "care", []),
    ("orphan", "孤儿", "care", []),
    ("pregnant", "孕产妇", "care", []),
    ("unemployed", "失业人员", "care", []),
    ("key_population", "重点人员", "key", []),
    ("community_correction", "社区矫正对象", "key", []),
    ("released", "刑满释放人员", "key", []),
    ("drug_user", "社区戒毒康复人员", "key", []),
    ("mental_disorder", "严重精神障碍患者", "key", ["一级", "二级", "三级", "四级", "五级"]),
    ("veteran", "退役军人", "status", []),
    ("military_family", "军属", "status", []),
    ("party_member", "党员", "status", []),
]

# code, name, parent code
UNIT_TYPES = [
    ("enterprise", "企业", None),
    ("state_owned", "国有企业", "enterprise"),
    ("private", "民营企业", "enterprise"),
    ("foreign", "外资企业", "enterprise"),
    ("self_employed", "个体工商户", None),
    ("shop", "商铺", None),
    ("restaurant", "餐饮", None),
    ("hotel", "宾馆", None),
    ("school", "学校", None),
    ("kindergarten", "幼儿园", "school"),
    ("primary", "小学", "school"),
    ("middle", "中学", "school"),
    ("clinic", "医疗机构", None),
    ("hospital", "医院", "clinic"),
    ("clinic_small", "诊所/卫生室", "clinic"),
    ("party_org", "党组织", None),
    ("social_org", "社会组织", None),
    ("government", "机关事业单位", None),
    ("other", "其他", None),
]


def seed(ResidentTagKind, UnitType) -> None:
    """Add the entries missing; the models are passed in (a migration passes its own)."""
    for order, (code, name, group, levels) in enumerate(TAG_KINDS, start=1):
        ResidentTagKind.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "levels": levels, "order": order}
        )
    by_code = {}
    for order, (code, name, parent) in enumerate(UNIT_TYPES, start=1):
        by_code[code], _ = UnitType.objects.get_or_create(
            code=code, defaults={"name": name, "parent": by_code.get(parent), "order": order}
        )
