"""Units of what a form counts or measures (人, 户, 万元, 平方千米 …): their spellings, the
unit written in a heading ("常住人口（人）"), and how far two units agree. Part of matching a
department's heading to the shared indicators (reports.services.matching)."""

from __future__ import annotations

import re
import unicodedata

# Unit → (kind of thing counted or measured, scale within the kind).
UNITS: dict[str, tuple[str, float]] = {
    "人": ("person", 1),
    "名": ("person", 1),
    "位": ("person", 1),
    "万人": ("person", 10_000),
    "户": ("household", 1),
    "家": ("organisation", 1),
    "所": ("organisation", 1),
    "处": ("place", 1),
    "个": ("thing", 1),
    "座": ("building", 1),
    "栋": ("building", 1),
    "幢": ("building", 1),
    "套": ("dwelling", 1),
    "间": ("dwelling", 1),
    "辆": ("vehicle", 1),
    "台": ("device", 1),
    "件": ("case", 1),
    "起": ("case", 1),
    "宗": ("case", 1),
    "次": ("time", 1),
    "人次": ("time", 1),
    "场": ("event", 1),
    "元": ("money", 1),
    "千元": ("money", 1_000),
    "万元": ("money", 10_000),
    "亿元": ("money", 100_000_000),
    "平方千米": ("area", 1_000_000),
    "平方米": ("area", 1),
    "亩": ("area", 666.67),
    "公顷": ("area", 10_000),
    "千米": ("length", 1000),
    "米": ("length", 1),
    "根": ("thing", 1),
    "具": ("thing", 1),
    "条": ("thing", 1),
    "张": ("thing", 1),
    "只": ("thing", 1),
    "块": ("thing", 1),
    "把": ("thing", 1),
    "口": ("thing", 1),
    "眼": ("thing", 1),
    "棵": ("plant", 1),
    "株": ("plant", 1),
    "头": ("animal", 1),
    "艘": ("vehicle", 1),
    "架": ("device", 1),
    "部": ("device", 1),
    "支": ("team", 1),
    "队": ("team", 1),
    "项": ("item", 1),
    "批": ("item", 1),
    "份": ("item", 1),
    "册": ("item", 1),
    "本": ("item", 1),
    "篇": ("item", 1),
    "期": ("event", 1),
    "班": ("event", 1),
    "户次": ("time", 1),
    "床": ("thing", 1),
    "盏": ("thing", 1),
    "对": ("item", 1),
    "场次": ("event", 1),
    "个次": ("time", 1),
    "万人次": ("time", 10_000),
    "立方米": ("volume", 1),
    "公斤": ("mass", 0.001),
    "千克": ("mass", 0.001),
    "千瓦": ("power", 1),
    "万户": ("household", 10_000),
    "个/千人": ("per_thousand", 1),
    "张/千人": ("per_thousand", 1),
    "人/千人": ("per_thousand", 1),
    "名/千人": ("per_thousand", 1),
    "人/平方千米": ("density", 1),
    "元/人": ("money_per_person", 1),
    "元/月": ("money_per_month", 1),
    "元/人/月": ("money_per_person", 1),
    "%": ("ratio", 0.01),
    "‰": ("ratio", 0.001),
    "岁": ("age", 1),
    "天": ("duration", 1),
    "小时": ("duration", 1 / 24),
    "吨": ("mass", 1),
}
UNIT_SPELLINGS = {
    "平方公里": "平方千米",
    "km2": "平方千米",
    "km²": "平方千米",
    "平方千米": "平方千米",
    "m2": "平方米",
    "m²": "平方米",
    "公里": "千米",
    "百分比": "%",
    "百分之": "%",
    "人数": "人",
    "户数": "户",
    "个数": "个",
    "km": "千米",
    "m": "米",
    "kg": "千克",
    "t": "吨",
    "人/km2": "人/平方千米",
    "人/平方公里": "人/平方千米",
    "个/千人口": "个/千人",
    "张/千人口": "张/千人",
    "人/千人口": "人/千人",
    "名/千人口": "名/千人",
    "每千人": "个/千人",
}
# "个" is the general classifier: a form counting 小区 in 个 and an indicator in 处 agree.
_GENERAL = "thing"

_UNIT_WORDS = sorted(set(UNITS) | set(UNIT_SPELLINGS), key=len, reverse=True)
_UNIT_ALTERNATION = "|".join(re.escape(u) for u in _UNIT_WORDS)
# "（人）", "(户)", "（单位：人）", "单位：万元", "(%)", "面积/公顷" — at the end of a heading.
_UNIT_IN_BRACKETS = re.compile(rf"[(\[]\s*(?:单位\s*[:：]?\s*)?({_UNIT_ALTERNATION})\s*[)\]]\s*$")
_UNIT_AFTER_LABEL = re.compile(rf"[,，;；\s]*单位\s*[:：]\s*({_UNIT_ALTERNATION})\s*$")
# After a slash only a unit of more than one character or a general measure: "人口/人" is
# ambiguous with a group path, "面积/公顷" and "户数/户" are not (the part before is a name).
_UNIT_AFTER_SLASH = re.compile(rf"(?<=[^/\s])\s*/\s*({_UNIT_ALTERNATION})\s*$")


def canonical_unit(text: str | None) -> str:
    """The unit as UNITS spells it, or "" when it is not a unit we know."""
    text = unicodedata.normalize("NFKC", text or "").strip().strip("()（）[]")
    text = re.sub(r"^单位\s*[:：]\s*", "", text).strip()
    text = UNIT_SPELLINGS.get(text, text)
    return text if text in UNITS else ""


# A classifier we do not list, alone in brackets at the end ("（盏）"), is a unit too; these
# characters in brackets qualify the item instead ("（男）", "（含）").
_ONE_CHARACTER = re.compile(r"[(\[]\s*([\u4e00-\u9fff])\s*[)\]]\s*$")
_NOT_UNITS = set("男女含其全总计内外新老大小上下")


def split_unit(heading: str) -> tuple[str, str]:
    """A heading without its unit, and the unit: "常住人口（人）" → ("常住人口", "人")."""
    text = unicodedata.normalize("NFKC", heading or "").strip()
    for pattern in (_UNIT_IN_BRACKETS, _UNIT_AFTER_LABEL, _UNIT_AFTER_SLASH):
        match = pattern.search(text)
        if match and match.start() > 0:
            return text[: match.start()].strip(), canonical_unit(match.group(1))
    match = _ONE_CHARACTER.search(text)
    if match and match.start() > 0 and match.group(1) not in _NOT_UNITS:
        return text[: match.start()].strip(), match.group(1)
    return text, ""


def unit_agreement(a: str, b: str) -> tuple[float, str]:
    """A factor on the score for two units (either may be unknown) and the reason."""
    a, b = canonical_unit(a), canonical_unit(b)
    if not a or not b or a == b:
        return 1.0, ""
    (kind_a, scale_a), (kind_b, scale_b) = UNITS[a], UNITS[b]
    if kind_a == kind_b:
        return (1.0, "") if scale_a == scale_b else (0.9, f"unit {a} vs {b}: another scale")
    # 个 counts anything but people and households: 个 vs 处 is one idea, 个 vs 人 is not.
    kinds = {kind_a, kind_b}
    if _GENERAL in kinds and not kinds & {"person", "household"}:
        return 0.9, f"unit {a} vs {b}"
    return 0.35, f"different units: {a} vs {b}"
