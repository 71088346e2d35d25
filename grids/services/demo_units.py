"""The demo's units (实有单位): about 3 % of the households' number, of the types in the
catalogue in a real district's proportions (self-employed and shops most, then enterprises
and restaurants; schools about one per two or three communities, a clinic per village, a
party organisation per community), each in a building fit for it, with a heavy-tailed
number of employees, a valid unified social credit code (GB 32100) and a fake but
valid-looking person in charge and phone (personal: masked by the API like residents').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNITS_PER_HOUSEHOLD = 0.03

# code: (share of units, where it stands, credit code prefix or "" for none)
TYPES = {
    "self_employed": (0.300, "street", "92"),
    "shop": (0.170, "street", "91"),
    "restaurant": (0.100, "street", "92"),
    "hotel": (0.012, "street", "91"),
    "private": (0.150, "business", "91"),
    "state_owned": (0.008, "business", "91"),
    "foreign": (0.004, "business", "91"),
    "kindergarten": (0.0022, "spread", "52"),
    "primary": (0.0015, "spread", "12"),
    "middle": (0.0008, "spread", "12"),
    "hospital": (0.0004, "public", "12"),
    "clinic_small": (0.012, "spread", "92"),
    "party_org": (0.015, "spread", ""),
    "social_org": (0.020, "public", "51"),
    "government": (0.014, "spread", "11"),
    "other": (0.0651, "business", "93"),
}
# How much each kind of building draws each placement: (use, urban) → weight.
PLACES = {
    "street": {"commercial": 6, "mixed": 6, "residential": 0.5, "public": 0, "industrial": 0},
    "business": {"industrial": 8, "commercial": 4, "mixed": 1, "residential": 0.05, "public": 0},
    "public": {"public": 8, "commercial": 1, "mixed": 1, "residential": 0.05, "industrial": 0},
    "spread": {"public": 8, "commercial": 2, "mixed": 2, "residential": 1, "industrial": 0},
}
TRADES = ["副食", "五金", "日杂", "建材", "农资", "烟酒", "水果", "服装", "理发", "家电维修",
          "粮油", "茶叶", "手机维修", "干洗", "摩托车维修", "药品", "文具", "母婴"]  # fmt: skip
SHOPS = ["店", "超市", "便利店", "专卖店", "商行", "经营部", "门市部"]
DISHES = ["火锅", "面馆", "豆花饭", "烤鱼", "小吃店", "串串香", "江湖菜馆", "中餐馆", "羊肉汤锅",
          "卤菜店", "烧烤"]  # fmt: skip
INDUSTRIES = ["机械制造", "电子科技", "食品", "纺织", "建材", "物流", "农业开发", "新材料",
              "汽车配件", "商贸", "茶业", "建筑工程", "信息技术", "环保科技", "陶瓷"]  # fmt: skip
SOCIAL = ["志愿者协会", "老年协会", "慈善会", "社会工作服务中心", "商会", "书画协会", "调解委员会"]
OFFICES = ["便民服务中心", "综合行政执法大队", "派出所", "财政所", "农业服务中心", "司法所"]
STATE_OWNED = ["城市建设投资", "水务", "国有资产经营", "公交", "农业投资"]
OTHERS = ["农民专业合作社", "物业服务中心", "驾校", "加油站", "养殖场", "劳务服务站"]
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def credit_code(prefix: str, digits: str) -> str:
    """A unified social credit code (GB 32100): department and kind, the district's 6-digit
    code, a 9-character organisation code with its GB 11714 check, and the check character."""
    org_check = 11 - sum(int(c) * w for c, w in zip(digits, ORG_WEIGHTS, strict=True)) % 11
    org = digits + {10: "X", 11: "0"}.get(org_check, str(org_check))
    body = f"{prefix}500118{org}"
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def _counts(n: int, shares: np.ndarray) -> np.ndarray:
    """n split by shares, rounded so that the parts add up to n (largest remainders)."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts))[: n - counts.sum()]] += 1
    return counts


def _employees(rng, code: str, n: int) -> list[int | None]:
    heavy = 1 + rng.pareto(1.3, n)
    ranges = {
        "self_employed": lambda: 1 + rng.geometric(0.55, n) - 1,
        "shop": lambda: 1 + rng.geometric(0.35, n) - 1,
        "restaurant": lambda: np.rint(np.exp(rng.normal(1.9, 0.6, n))),
        "hotel": lambda: rng.integers(4, 60, n),
        "private": lambda: np.minimum(np.rint(4 * heavy), 3000),
        "state_owned": lambda: np.minimum(np.rint(30 * heavy), 5000),
        "foreign": lambda: np.minimum(np.rint(25 * heavy), 4000),
        "kindergarten": lambda: rng.integers(10, 45, n),
        "primary": lambda: rng.integers(30, 130, n),
        "middle": lambda: rng.integers(60, 260, n),
        "hospital": lambda: rng.integers(150, 1500, n),
        "clinic_small": lambda: rng.integers(1, 9, n),
        "social_org": lambda: rng.integers(1, 16, n),
        "government": lambda: rng.integers(8, 120, n),
        "other": lambda: np.minimum(np.rint(2 * heavy), 300),
    }
    if code not in ranges:  # party organisations count members, not employees
        return [None] * n
    return [int(v) for v in np.maximum(ranges[code](), 1)]


def _name(rng, code: str, syllable: str, community: str, street: str, urban: bool) -> str:
    short = community.removesuffix("社区").removesuffix("村") or syllable
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    surname = pick(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"))
    return {
        "self_employed": f"永川区{syllable}{pick(TRADES)}{pick(SHOPS)}",
        "shop": f"{syllable}{pick(TRADES)}{pick(SHOPS)}",
        "restaurant": f"{surname}记{pick(DISHES)}",
        "hotel": f"{syllable}{pick(['宾馆', '酒店', '旅馆', '商务酒店'])}",
        "private": f"重庆{syllable}{pick(INDUSTRIES)}有限公司",
        "state_owned": f"重庆市永川区{syllable}{pick(STATE_OWNED)}有限公司",
        "foreign": f"重庆{syllable}{pick(['精密机械', '电子', '汽车部件'])}有限公司（外商独资）",
        "kindergarten": f"永川区{short}幼儿园",
        "primary": f"永川区{short}小学",
        "middle": f"永川区{syllable}中学",
        "hospital": f"永川区{syllable}医院",
        "clinic_small": f"{syllable}诊所" if urban else f"{community}卫生室",
        "party_org": f"中共{community}委员会" if urban else f"中共{community}支部委员会",
        "social_org": f"永川区{syllable}{pick(SOCIAL)}",
        "government": f"{street}{pick(OFFICES)}",
        "other": f"永川区{syllable}{pick(OTHERS)}",
    }.get(code, f"{syllable}{code}")


def units_of(rng, b: pd.DataFrame, unit_types: dict[str, int], to_wgs84) -> pd.DataFrame:
    """The units, each in a building of `b` (its index in `building`)."""
    from grids.services.demo import GIVEN, SURNAMES, SYLLABLES

    households = int(b["households"].sum())
    codes = [code for code in TYPES if code in unit_types]
    n = round(households * UNITS_PER_HOUSEHOLD)
    counts = _counts(n, np.array([TYPES[c][0] for c in codes]))
    use = b["use"].to_numpy()
    community = b["community_id"].fillna(-1).to_numpy()
    # Buildings by community, for the types that spread one per community in turn.
    communities = np.unique(community)
    rows = []
    for code, count in zip(codes, counts, strict=True):
        _share, place, prefix = TYPES[code]
        weight = np.vectorize(PLACES[place].get)(use, 0).astype(float)
        if weight.sum() == 0:
            weight = np.ones(len(b))
        if place == "spread":
            chosen = []
            order = rng.permutation(communities)
            for k in range(count):
                mine = np.flatnonzero(community == order[k % len(order)])
                w = weight[mine] + 1e-9
                chosen.append(int(rng.choice(mine, p=w / w.sum())))
            building = np.array(chosen, dtype=int)
        else:
            building = rng.choice(len(b), count, p=weight / weight.sum())
        employees = _employees(rng, code, count)
        for i, at in enumerate(building):
            rows.append((code, int(at), employees[i], prefix))
    if not rows:
        return pd.DataFrame(columns=["building"])
    table = pd.DataFrame(rows, columns=["code", "building", "employees", "prefix"])
    m = len(table)
    at = table["building"].to_numpy()
    table["type_id"] = [unit_types[c] for c in table["code"]]
    names = []
    c_names, s_names = b["community_name"].to_numpy(), b["street_name"].to_numpy()
    urban = b["urban"].to_numpy()
    for code, i in zip(table["code"], at, strict=True):
        syllable = "".join(rng.choice(SYLLABLES, 2))
        c_name = c_names[i] if isinstance(c_names[i], str) else ""
        s_name = s_names[i] if isinstance(s_names[i], str) else "永川区"
        names.append(_name(rng, code, syllable, c_name, s_name, bool(urban[i])))
    table["name"] = names
    digits = rng.integers(0, 10, (m, 8)).astype(str)
    table["credit_code"] = [
        credit_code(p, "".join(d)) if p else ""
        for p, d in zip(table["prefix"], digits, strict=True)
    ]
    table["legal_person"] = np.char.add(
        np.char.add(rng.choice(SURNAMES, m), rng.choice(GIVEN, m)),
        np.where(rng.random(m) < 0.6, rng.choice(GIVEN, m), ""),
    )
    mobile = np.char.add(
        rng.choice(["138", "139", "151", "177", "186", "199"], m),
        np.char.zfill(rng.integers(0, 10**8, m).astype(str), 8),
    )
    office = np.char.add("023-4985", np.char.zfill(rng.integers(0, 10**4, m).astype(str), 4))
    public = table["prefix"].isin(["11", "12"]).to_numpy()
    table["contact_phone"] = np.where(public, office, mobile)
    table["address"] = b["address"].to_numpy()[at]
    # In its building: a few metres from its point, within the footprint.
    x = b["x"].to_numpy()[at] + rng.uniform(-5, 5, m)
    y = b["y"].to_numpy()[at] + rng.uniform(-5, 5, m)
    lon, lat = to_wgs84.transform(x, y)
    table["lon"], table["lat"] = np.asarray(lon), np.asarray(lat)
    opened = np.datetime64("2019-01-01") + rng.integers(0, 7 * 365, m).astype("timedelta64[D]")
    building_since = b["registered_on"].to_numpy().astype("datetime64[D]")[at]
    registered = np.maximum(opened, building_since)
    last = np.datetime64("2025-12-31")
    closes = (rng.random(m) < 0.04) & (registered + 30 < last)
    span = np.maximum((last - registered).astype(int) - 30, 1)
    removed = registered + 30 + (rng.random(m) * span).astype(int).astype("timedelta64[D]")
    table["registered_on"] = registered.astype(object)
    table["removed_on"] = np.where(closes, removed.astype(object), None)
    table["client_key"] = [f"demo-u-{i}" for i in range(m)]
    table["employees"] = table["employees"].astype("Int64")
    return table
