"""The demo's words: what residents ask for and what providers answer, as a community's needs
list and services list would read (Chinese data, not interface strings). Kind codes are the
catalogue's (needs/migrations/0002_seed_service_kinds.py)."""

from __future__ import annotations

import random

# How often each kind is asked for: meals and company for the old, small repairs and 微心愿
# goods lead; policy questions and errands follow (seeds: the needs lists of Lhasa's
# communities, 一老一小、一弱一困).
KIND_WEIGHTS = {
    "elderly": 12,
    "goods": 10,
    "plumbing": 9,
    "errands": 9,
    "health": 8,
    "policy": 7,
    "tutoring": 6,
    "appliance": 6,
    "environment": 5,
    "haircut": 4,
    "jobs": 4,
    "legal": 4,
    "counselling": 3,
    "culture": 3,
    "safety": 2,
}

# What each kind of provider tends to offer.
KINDS_OFFERED = {
    "unit": ["health", "legal", "appliance", "plumbing", "jobs", "goods", "safety"],
    "co_building": ["goods", "jobs", "health", "legal", "culture", "safety", "policy", "tutoring"],
    "volunteer": ["environment", "culture", "haircut", "safety", "elderly", "errands", "tutoring"],
    "party_member": [
        "elderly",
        "errands",
        "tutoring",
        "policy",
        "counselling",
        "plumbing",
        "appliance",
        "legal",
        "health",
        "goods",
    ],
}

TITLES = {
    "elderly": ["独居老人每周助餐", "高龄老人上门陪护", "陪同老人到医院复诊", "老人日常照料探访"],
    "health": ["上门测量血压血糖", "慢病老人健康咨询", "行动不便老人上门义诊", "用药指导"],
    "legal": ["赡养纠纷法律咨询", "房屋租赁合同咨询", "代写起诉状", "工资拖欠法律援助咨询"],
    "counselling": ["留守儿童心理疏导", "失独老人心理陪伴", "邻里矛盾后情绪疏导"],
    "jobs": ["失业人员岗位推荐", "残疾人就业帮扶", "技能培训报名指导", "返乡青年创业指导"],
    "tutoring": ["小学生课后作业辅导", "初三数学辅导", "暑期托管", "留守儿童英语辅导"],
    "appliance": ["洗衣机维修", "热水器不出热水", "电视机无信号", "冰箱不制冷"],
    "plumbing": ["厨房水管漏水", "楼道灯不亮", "卫生间下水堵塞", "插座跳闸维修"],
    "environment": ["楼道杂物清理", "院坝绿化补种", "背街小巷卫生整治", "化粪池清掏协调"],
    "culture": ["老年合唱队排练场地", "广场舞音响借用", "社区读书会", "儿童书法兴趣班"],
    "policy": ["医保缴费政策咨询", "高龄津贴申领指引", "低保申请材料指导", "养老保险转移咨询"],
    "goods": ["困难家庭孩子新书包", "冬季棉衣一件", "轮椅一台", "学习台灯一盏", "老人助听器"],
    "errands": ["代缴水电燃气费", "代购生活用品", "代取药品", "代办社保卡补办"],
    "haircut": ["行动不便老人上门理发", "残疾人上门理发", "集中义剪"],
    "safety": ["老旧小区消防安全宣传", "老年人防诈骗讲座", "电动车充电安全检查"],
}

DETAILS = [
    "家中只有老人，行动不便，希望尽快安排。",
    "网格员走访时了解到，家属在外地务工。",
    "居民通过社区公告栏二维码提交。",
    "困难家庭，已核实情况属实。",
    "希望周末上门，工作日家中无人。",
    "已电话联系居民，约定时间上门。",
]

DECLINE_REASONS = [
    "不属于社区服务范围，已告知居民向相关部门反映",
    "信息不全，多次电话联系未果",
    "已通过其他渠道解决",
    "超出微心愿标准（物品价值过高），已转为临时救助申请",
]

PROVIDER_DECLINE_REASONS = [
    "时间冲突，本周无法上门",
    "超出本人服务能力，建议派给专业单位",
    "外出学习，暂时无法服务",
]

REPORTS = [
    "已上门服务，问题已解决，居民表示满意。",
    "已按约定时间完成服务，并留下联系方式以便回访。",
    "已送达物品，居民签收。",
    "已完成，顺带检查了家中用电安全。",
    "服务完成，建议社区后续定期走访。",
]

FEEDBACK = ["非常感谢！", "服务很及时", "很满意，希望常来", "", "", "态度很好", "基本解决了"]

CO_BUILDING_NAMES = [
    "区税务局机关党支部",
    "区人民医院党委",
    "区司法局机关党支部",
    "区供电公司党支部",
    "区实验小学党支部",
    "区妇幼保健院党支部",
    "区人力社保局机关党支部",
    "区消防救援大队党支部",
    "区图书馆党支部",
    "区文化馆党支部",
    "区自来水公司党支部",
    "区邮政分公司党支部",
    "区农商银行党支部",
    "区中医院党支部",
    "区职业教育中心党支部",
]

PARTY_ORGANISATIONS = [
    "区教委机关党支部",
    "区卫生健康委机关党支部",
    "区财政局机关党支部",
    "区住房城乡建委机关党支部",
    "区人民医院党委",
    "区第二中学党支部",
    "区市场监管局机关党支部",
    "区交通局机关党支部",
    "区城市管理局机关党支部",
    "街道机关党支部",
]

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强玉兰文斌海燕"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "19")) + f"{rng.randrange(10**9):09d}"


def title(rng: random.Random, kind: str) -> str:
    return rng.choice(TITLES.get(kind, ["微心愿"]))
