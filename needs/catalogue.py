"""The catalogue of service kinds' first entries: the seeds' 15 kinds of the services list
(Cisongtang). Names are Chinese data, not interface strings: communities edit them in the
admin. Migration 0002 seeds them; tests whose flush empties them call `seed` again."""

from __future__ import annotations

KINDS = [
    # code, name, description, days to fulfil
    ("elderly", "助老助餐", "老年人助餐、陪伴、上门照料", 3),
    ("health", "医疗健康", "义诊、健康咨询、上门测血压血糖", 7),
    ("legal", "法律咨询", "法律咨询、调解、文书代写", 7),
    ("counselling", "心理疏导", "心理咨询与情绪疏导", 7),
    ("jobs", "就业帮扶", "岗位推荐、技能培训、创业指导", 14),
    ("tutoring", "学业辅导", "课业辅导、假期托管", 7),
    ("appliance", "家电维修", "家用电器检修", 5),
    ("plumbing", "水电维修", "水管、电路、灯具维修", 3),
    ("environment", "环境整治", "楼道清理、绿化、卫生整治", 7),
    ("culture", "文体活动", "文艺演出、体育活动、读书会", 14),
    ("policy", "政策咨询", "社保、医保、救助政策解读与代办指引", 5),
    ("goods", "物资帮扶", "微心愿物品：衣物、书包、生活用品", 10),
    ("errands", "代办跑腿", "代购、代缴、代办手续", 3),
    ("haircut", "理发义剪", "上门或集中义务理发", 7),
    ("safety", "安全宣传", "消防、防诈骗、交通安全宣传", 14),
]


def seed(ServiceKind) -> None:
    """Add the kinds missing; the model is passed in (a migration passes its own)."""
    for order, (code, name, description, days) in enumerate(KINDS, start=1):
        ServiceKind.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "days_to_fulfil": days,
                "order": order,
            },
        )
