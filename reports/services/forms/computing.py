"""Reading a heading as something the platform can count: "80岁以上老人" is residents aged
80 or more at the period's end, "流动人口" residents registered as floating, "已整改隐患"
hazard incidents closed within the period (contract C of issue #17, reports.definitions).

A heading is read term by term: each term of the vocabulary below that occurs in it adds a
condition (an age range, a registration, a tag, a building use, a unit type, an incident
category or status), names the subject it counts, or says it is a flow. Whatever is left
must be filler (人数, 数量, 情况, 本月 …); a heading with words the vocabulary does not know
("80岁以上老人体检人数") is not read at all, so that a guess never counts the wrong thing. The
tags and unit types also come from the subjects' catalogues (`reports.subjects`): a tag an
administrator adds is understood by its name."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

from reports import subjects

# ---- the vocabulary -------------------------------------------------------------------------


def _cond(name: str, op: str, value) -> dict:
    return {"field": name, "op": op, "value": value}


# Incident categories as the seeded definitions name them (incidents.catalogue).
DISPUTES = ["070101", "070201", "070401"]
HAZARDS = ["06"]
CLOSED = _cond("status", "in", ["closed", "assessed"])

LEVELS = {"一": "一级", "二": "二级", "三": "三级", "四": "四级"}
LEVELS |= {"1": "一级", "2": "二级", "3": "三级", "4": "四级"}

# Resident tags by the words departments use (the catalogue's own names are added at run
# time). Longest first when read; "老人"/"儿童" inside a term are consumed with it.
TAG_WORDS = {
    "low_income": ["最低生活保障对象", "城乡低保对象", "低保对象", "低保人员", "低保"],
    "extreme_poverty": ["特困供养人员", "特困供养", "特困人员", "特困", "五保"],
    "left_behind_child": ["农村留守儿童", "留守儿童"],
    "empty_nest": ["空巢老年人", "空巢老人", "空巢"],
    "living_alone": ["独居老年人", "独居老人"],
    "disabled": ["持证残疾人", "残疾人", "残障人士", "残疾"],
    "veteran": ["退役军人", "退伍军人", "复员军人", "转业军人"],
    "party_member": ["网格党员", "在册党员", "中共党员", "共产党员", "党员"],
    "community_correction": ["社区矫正对象", "社区矫正人员", "社区矫正"],
    "released": ["刑满释放人员", "刑满释放", "安置帮教对象"],
    "drug_user": ["社区戒毒社区康复人员", "社区戒毒康复人员", "戒毒康复人员", "吸毒人员"],
    "mental_disorder": ["严重精神障碍患者", "严重精神障碍", "精神障碍患者"],
    "military_family": ["现役军人家属", "军人家属", "军属"],
    "orphan": ["孤儿"],
    "pregnant": ["孕产妇"],
    "unemployed": ["登记失业人员", "失业人员"],
    "key_population": ["重点人员", "重点人群"],
}
REGISTRATION_WORDS = {
    "registered": ["本地户籍人口", "户籍人口", "户籍人数", "户籍居民", "户籍"],
    "floating": ["流动人口", "外来人口", "暂住人口", "流入人口", "外来务工人员", "流动人员"],
    "overseas": ["境外来华人员", "境外人员", "境外人口", "外籍人员", "外籍人士"],
}
BUILDING_USE_WORDS = {
    "residential": ["住宅楼", "住宅房屋", "居民楼", "住宅"],
    "commercial": ["商业用房", "商业楼", "商业房屋", "商业"],
    "mixed": ["商住混合", "商住两用", "商住楼", "商住"],
    "public": ["公共建筑", "公建"],
    "industrial": ["工业厂房", "工业用房", "厂房", "工业"],
}
BUILDING_WORDS = ["实有房屋", "房屋", "楼栋", "楼宇", "建筑物", "建筑", "楼房", "楼"]
UNIT_TYPE_WORDS = {
    "state_owned": ["国有企业", "国企"],
    "private": ["民营企业", "私营企业"],
    "foreign": ["外资企业", "外商投资企业"],
    # 生产经营单位 is the safety law's word for the businesses it inspects.
    "enterprise": ["生产经营单位", "生产经营企业", "企业"],
    "self_employed": ["个体工商户", "个体经营户", "个体户"],
    "shop": ["沿街商铺", "商铺", "门店", "店铺", "商户"],
    "kindergarten": ["幼儿园"],
    "primary": ["小学"],
    "middle": ["中学"],
    "school": ["中小学校", "中小学", "学校"],
    "hospital": ["医院"],
    "clinic_small": ["村卫生室", "社区卫生服务站", "诊所", "卫生室", "卫生所"],
    "clinic": ["医疗卫生机构", "医疗机构", "卫生机构"],
    "party_org": ["基层党组织", "党组织", "党支部"],
    "social_org": ["社区社会组织", "社会组织"],
    "government": ["机关事业单位", "机关单位"],
    "restaurant": ["餐饮服务单位", "餐饮服务", "餐饮单位", "餐饮企业", "餐饮店", "餐馆", "餐饮"],
    "hotel": ["宾馆酒店", "宾馆", "酒店", "旅馆", "住宿场所"],
}
UNIT_WORDS = ["机关企事业单位", "企事业单位", "实有单位", "辖区单位", "驻区单位", "单位"]
# Words of a flow and of a closing within the period, for incidents.
RECEIVED = ["受理", "排查", "发现", "上报", "登记", "接报", "新增", "收到"]
RESOLVED = [
    "已化解",
    "化解",
    "调处",
    "调解成功",
    "已整改",
    "整改",
    "办结",
    "已办结",
    "解决",
    "销号",
]
INCIDENT_WORDS = {
    "disputes": ["矛盾纠纷", "纠纷"],
    "hazards": ["安全风险隐患", "风险隐患", "安全隐患", "隐患点", "隐患"],
}
# Catalogue names read by INCIDENT_WORDS (安全隐患 is the seeded definitions' "06").
_INCIDENT_GENERIC = {"安全隐患", "社会事务"}

# What may be left over: counted nouns, "per period" words and particles.
FILLER = re.compile(
    r"人数|人口|人员|数量|总数|个数|户数|件数|栋数|幢数|家数|情况|对象|合计|小计|总计|实有|现有|"
    r"辖区|本辖区|在册|本月|当月|本期|本季度?|本年度?|全年|累计|年末|期末|月末|季末|年底|月底|截至|"
    r"目前|当前|其中|及|和|与|的|共|总|数|名|人|"
    r"个|件|起|处|家|所|栋|幢|座|次|户"
)
# People words allowed beside a condition that says who they are ("80岁以上老人").
PEOPLE = re.compile(
    r"老年人|老年|老人|长者|儿童|少年儿童|少儿|青少年|未成年人|婴幼儿|婴儿|幼儿|居民|男性|女性|人群"
)


@dataclass
class _Reading:
    subjects: set[str] = field(default_factory=set)
    where: list[dict] = field(default_factory=list)
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    unit_types: list[str] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    received: bool = False
    resolved: bool = False
    households: bool = False
    employees: bool = False
    has_age: bool = False
    unclear: bool = False


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _catalogue_words(subject: str, name: str, table: dict[str, list[str]]) -> dict:
    """The table with the catalogue's own names added (an administrator's new tag or
    unit type is read by its name)."""
    words = {code: list(names) for code, names in table.items()}
    found = subjects.get(subject)
    fld = found.field(name) if found else None
    if fld is not None and fld.choices is not None:
        for code, label in fld.choices():
            label = str(label).strip()
            if code not in _READ_OTHERWISE and len(label) >= 2:
                words.setdefault(code, []).append(label)
    return words


# Catalogue entries read by other words: ages say who is old or a minor (the tags elderly
# and child are the same people by another route), "其他" says nothing.
_READ_OTHERWISE = {"elderly", "child", "other"}
# A parent type matches its children (contract C): "学校及幼儿园" is type school.
PARENT_TYPES = {
    "state_owned": "enterprise",
    "private": "enterprise",
    "foreign": "enterprise",
    "kindergarten": "school",
    "primary": "school",
    "middle": "school",
    "hospital": "clinic",
    "clinic_small": "clinic",
}


def _take(text: str, pattern: str) -> tuple[str, list[re.Match]]:
    """`text` with every match of `pattern` blanked out, and the matches."""
    found = list(re.finditer(pattern, text))
    for m in reversed(found):
        text = text[: m.start()] + " " + text[m.end() :]
    return text, found


def _code_of(words: dict[str, list[str]], word: str) -> str:
    return next(code for code, names in words.items() if word in names)


def read(name: str, unit: str = "") -> dict | None:
    """A definition (contract C JSON) for a heading, or None when the heading says more
    than the vocabulary knows or names no one thing to count."""
    text = unicodedata.normalize("NFKC", name or "").replace(" ", "")
    text, included = _inclusions(text)
    if text is None:
        return None
    definition = _read(text, unit)
    for words in included:
        definition = _widened(definition, read(words))
    return definition


# "(含规上)": a closed list of what a count includes already, so it changes nothing.
_INCLUDED_ALREADY = {"规上", "规模以上", "规上企业", "规模以上企业", "规下", "规模以下"}
_INCLUSION = re.compile(r"\((不?)含([^()]*)\)")
_AGE_ONLY = re.compile(r"\d+\s*周?岁")


def _inclusions(text: str) -> tuple[str | None, list[str]]:
    """The heading without its "(含X)" parts, and the X that widen the count.

    含 usually widens the count or makes a bound inclusive; it never narrows it:
    "流动人口(含境外人员)" counts floating and overseas residents, "14岁以下(含14岁)" says
    14 is in. A bound's "(含)"/"(含14岁)" is left for the age reading; a closed list of
    what the count includes already ("企业(含规上)") is dropped; "(不含X)" of anything but
    a bound leaves the heading unread (None) rather than guess what it takes away."""
    widening: list[str] = []
    for m in reversed(list(_INCLUSION.finditer(text))):
        excluded, inner = m.group(1), m.group(2).strip()
        if not inner or _AGE_ONLY.fullmatch(inner):
            continue  # a bound's qualifier: read with the age
        if excluded:
            return None, []
        if inner not in _INCLUDED_ALREADY:
            widening.append(inner)
        text = text[: m.start()] + " " + text[m.end() :]
    # Any other 含 ("60岁以上含残疾人") widens by words read as narrowing: not read.
    probe = _numerals(re.sub(r"[()]", " ", text))
    if "含" in _AGE_BELOW.sub("", _AGE_FROM.sub("", probe)):
        return None, []
    return text, widening


def _widened(definition: dict | None, extra: dict | None) -> dict | None:
    """`definition` counting also what `extra` counts, when `extra` is one more value of a
    field the definition already filters ("流动人口(含境外人员)": registration in floating,
    overseas); None when the union is not one definition."""
    if definition is None or extra is None or extra["subject"] != definition["subject"]:
        return None
    if extra["time"] not in ("stock", definition["time"]) or len(extra["where"]) != 1:
        return None
    (added,) = extra["where"]
    same = [c for c in definition["where"] if c.get("field") == added.get("field")]
    if len(same) != 1 or "level" in same[0] or "level" in added:
        return None
    (condition,) = same
    ops = {condition["op"], added["op"]}
    if ops <= {"=", "in"}:
        op = "in"
    elif ops <= {"has", "has_any"}:
        op = "has_any"
    else:
        return None
    values = []
    for c in (condition, added):
        values += c["value"] if isinstance(c["value"], list) else [c["value"]]
    values = list(dict.fromkeys(values))
    if added.get("field") == "type":  # a parent type matches its children already
        values = [v for v in values if PARENT_TYPES.get(v) not in values]
    merged = {"field": condition["field"], "op": op, "value": values}
    if len(values) == 1:
        merged = {
            "field": condition["field"],
            "op": "=" if op == "in" else "has",
            "value": values[0],
        }
    where = [merged if c is condition else c for c in definition["where"]]
    return definition | {"where": where}


def _read(text: str, unit: str) -> dict | None:
    text = re.sub(r"[()\[\]（）【】:：,，、/]", " ", text)
    if not text.strip():
        return None
    r = _Reading()

    # Incidents first: a category by its catalogue name ("邻里纠纷"), then the kinds the
    # seeded definitions count ("矛盾纠纷化解数", "已整改隐患").
    categories = _catalogue_words("incidents", "category", {})
    names = [w for ws in categories.values() for w in ws if w not in _INCIDENT_GENERIC]
    if names:
        text, found = _take(text, _alternation(names))
        for m in found:
            r.categories.append(_code_of(categories, m.group(0)))
            r.subjects.add("incidents")
    for kind, words in INCIDENT_WORDS.items():
        text, found = _take(text, _alternation(words))
        if found:
            r.incidents.append(kind)
            r.subjects.add("incidents")
    if r.incidents or r.categories:
        text, found = _take(text, _alternation(RESOLVED))
        r.resolved = bool(found)
        text, found = _take(text, _alternation(RECEIVED))
        r.received = bool(found)

    # Units (实有单位) by type, before the people words ("个体工商户" is not 户).
    unit_words = _catalogue_words("units", "type", UNIT_TYPE_WORDS)
    text, found = _take(text, _alternation(w for ws in unit_words.values() for w in ws))
    for m in found:
        r.unit_types.append(_code_of(unit_words, m.group(0)))
        r.subjects.add("units")
    text, found = _take(text, r"从业人员|从业人数|职工人数|从业")
    if found:
        r.employees = True
        r.subjects.add("units")
    text, found = _take(text, _alternation(UNIT_WORDS))
    if found:
        r.subjects.add("units")

    # Buildings by use, then the building words themselves.
    text, found = _take(text, _alternation(w for ws in BUILDING_USE_WORDS.values() for w in ws))
    for m in found:
        r.uses.append(_code_of(BUILDING_USE_WORDS, m.group(0)))
        r.subjects.add("buildings")
    text, found = _take(text, _alternation(BUILDING_WORDS))
    if found:
        r.subjects.add("buildings")

    # Residents: disability levels, tags, registration, age, sex.
    tag_words = _catalogue_words("residents", "tags", TAG_WORDS)
    text, found = _take(text, r"([一二三四1-4])级(?:残疾人?|伤残)?|残疾等级([一二三四1-4])级")
    for m in found:
        r.tags.append(("disabled", LEVELS[m.group(1) or m.group(2)]))
    text, found = _take(text, _alternation(w for ws in tag_words.values() for w in ws))
    for m in found:
        code = _code_of(tag_words, m.group(0))
        if not any(c == code for c, _level in r.tags):
            r.tags.append((code, None))
    text, found = _take(text, _alternation(w for ws in REGISTRATION_WORDS.values() for w in ws))
    for m in found:
        r.where.append(_cond("registration", "=", _code_of(REGISTRATION_WORDS, m.group(0))))
    text = _read_age(text, r)
    text, found = _take(text, r"男性|女性|妇女|^[男女](?=\s|$|人)|(?<=\s)[男女](?=\s|$|人)")
    for m in found:
        r.where.append(_cond("sex", "=", "M" if m.group(0).startswith("男") else "F"))
    if r.tags or r.where:
        r.subjects.add("residents")

    # Households, grids.
    if "residents" in r.subjects and (re.search(r"户数|户$|户\s|家庭", text) or unit == "户"):
        r.households = True
        text = re.sub(r"家庭", " ", text)
    if not r.subjects:
        text, found = _take(text, r"网格(?!员)")
        if found:
            r.subjects.add("grids")
    return _definition(r, text)


_AGE_RANGE = re.compile(r"(\d+)(?:周?岁)?\s*[-—~至到]\s*(\d+)\s*周?岁")
# A bound said with 以上/以下 includes the number (Chinese legal usage, 民法典 第1259条:
# "14周岁以下" is age <= 14); 含 says so again, 不含 takes it out, and "(含14岁)" after it
# must name the same number. 不满/未满 N岁 is below N.
_QUALIFIER = r"(?:\s*(不)?含\s*(?:(\d+)\s*周?岁|(?=\s|$)))?"
_AGE_FROM = re.compile(rf"(\d+)\s*周?岁(?:\s*(不)?含)?\s*及?\s*以上{_QUALIFIER}")
_AGE_BELOW = re.compile(rf"(\d+)\s*周?岁(?:\s*(不)?含)?\s*及?\s*以下{_QUALIFIER}")
_AGE_UNDER = re.compile(r"[不未]满\s*(\d+)\s*周?岁")
_CHINESE_NUMBERS = {"六十": "60", "七十": "70", "八十": "80", "九十": "90", "百": "100"}
_HUNDRED = re.compile(r"百岁(?:及以上|以上)?")


def _numerals(text: str) -> str:
    for word, digits in _CHINESE_NUMBERS.items():
        text = text.replace(f"{word}岁", f"{digits}岁").replace(f"{word}周岁", f"{digits}周岁")
    return text


def _read_age(text: str, r: _Reading) -> str:
    text, found = _take(text, _HUNDRED.pattern)
    if found:
        r.where.append(_cond("age", ">=", 100))
    text = _numerals(text)
    text, found = _take(text, _AGE_RANGE.pattern)
    for m in found:
        r.where.append(_cond("age", "between", [int(m.group(1)), int(m.group(2))]))
    for pattern, inclusive, exclusive in ((_AGE_FROM, ">=", ">"), (_AGE_BELOW, "<=", "<")):
        text, found = _take(text, pattern.pattern)
        for m in found:
            bound, out_before, out_after, named = m.groups()
            if named is not None and int(named) != int(bound):
                r.unclear = True  # "14岁以下(含15岁)": which bound is meant?
            op = exclusive if out_before or out_after else inclusive
            r.where.append(_cond("age", op, int(bound)))
    text, found = _take(text, _AGE_UNDER.pattern)
    for m in found:
        r.where.append(_cond("age", "<", int(m.group(1))))
    text, found = _take(text, r"高龄老(?:年)?人|高龄")
    if found:
        r.where.append(_cond("age", ">=", 80))
    text, found = _take(text, r"未成年人|未成年")
    if found and not any(c["field"] == "age" for c in r.where):
        r.where.append(_cond("age", "<", 18))
    r.has_age = any(c["field"] == "age" for c in r.where)
    return text


def _definition(r: _Reading, rest: str) -> dict | None:
    if len(r.subjects) != 1 or r.unclear:
        return None
    subject = r.subjects.pop()
    left = [FILLER.sub("", rest)]
    if subject == "residents":
        left += [FILLER.sub("", PEOPLE.sub(" ", rest)), PEOPLE.sub("", FILLER.sub(" ", rest))]
    if all(part.strip() for part in left):
        return None  # words the vocabulary does not know: not read
    where = []
    for condition in r.where:  # "80岁以上高龄老人" says 80 twice
        if condition not in where:
            where.append(condition)
    measure: str | dict = "count"
    time: str | dict = "stock"
    if subject == "residents":
        for code, level in r.tags:
            condition = _cond("tags", "has", code)
            if level:
                condition["level"] = level
            where.append(condition)
        if r.households:
            measure = {"distinct": "household"}
    elif subject == "units":
        if r.unit_types:
            types = list(dict.fromkeys(r.unit_types))
            types = [t for t in types if PARENT_TYPES.get(t) not in types]
            where.append(
                _cond("type", "=", types[0]) if len(types) == 1 else _cond("type", "in", types)
            )
        if r.employees:
            measure = {"sum": "employees"}
    elif subject == "buildings":
        if r.uses:
            uses = list(dict.fromkeys(r.uses))
            where.append(_cond("use", "=", uses[0]) if len(uses) == 1 else _cond("use", "in", uses))
    elif subject == "incidents":
        codes = list(dict.fromkeys(r.categories))
        if not codes:
            for kind in r.incidents:
                codes += DISPUTES if kind == "disputes" else HAZARDS
        where.append(
            _cond("category", "=", codes[0]) if len(codes) == 1 else _cond("category", "in", codes)
        )
        if r.resolved:
            where.append(dict(CLOSED))
            time = {"within": "closed_at"}
        else:
            time = {"within": "reported_at"}
    return {"subject": subject, "where": where, "measure": measure, "time": time}


def narrowed(parent: dict | None, part: dict | None) -> dict | None:
    """A "其中：" item's definition: its own conditions added to the item's it is part of
    ("低保人数 / 其中：残疾人" is low_income and disabled; "排查矛盾纠纷 / 其中：邻里纠纷" the
    邻里 category within the same period), when both count one subject the same way. A
    condition of the part on a field the parent also filters replaces the parent's
    (tags add up)."""
    if not parent or not part or parent["subject"] != part["subject"]:
        return None
    if parent["measure"] != part["measure"] and part["measure"] != "count":
        return None
    own = {c.get("field") for c in part["where"] if c.get("field") != "tags"}
    where = [c for c in parent["where"] if c.get("field") not in own]
    where += [c for c in part["where"] if c not in where]
    time = part["time"] if part["time"] != "stock" else parent["time"]
    if part["subject"] == "incidents" and any(c == CLOSED for c in parent["where"]):
        time = parent["time"]
    return {"subject": part["subject"], "where": where, "measure": parent["measure"], "time": time}


# ---- comparing definitions ------------------------------------------------------------------


def _normal(condition: dict) -> dict:
    condition = dict(condition)
    if "any" in condition:
        return {"any": sorted((_normal(c) for c in condition["any"]), key=_key)}
    value = condition.get("value")
    if isinstance(value, list) and condition.get("op") in ("in", "not_in", "has_any"):
        value = sorted(value, key=str)
        if len(value) == 1 and condition["op"] == "in":
            condition["op"], value = "=", value[0]
    condition["value"] = value
    return condition


def _key(condition: dict) -> str:
    return json.dumps(condition, sort_keys=True, ensure_ascii=False)


def signature(definition: dict | None) -> str | None:
    """One string per meaning: conditions in any order, a one-code "in" as "=", lists
    sorted. Two definitions with one signature count the same thing."""
    if not isinstance(definition, dict):
        return None
    where = sorted((_normal(c) for c in definition.get("where") or []), key=_key)
    return json.dumps(
        {
            "subject": definition.get("subject"),
            "where": where,
            "measure": definition.get("measure") or "count",
            "time": definition.get("time") or "stock",
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def unit_of(definition: dict) -> str:
    """The unit a count of the definition is in (人, 户, 栋, 家, 件 …)."""
    measure = definition.get("measure")
    if isinstance(measure, dict) and measure.get("distinct") == "household":
        return "户"
    if isinstance(measure, dict) and measure.get("sum") == "employees":
        return "人"
    found = subjects.get(definition.get("subject") or "")
    return found.unit if found else ""
