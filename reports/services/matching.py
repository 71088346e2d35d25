"""Matching a department's column heading to the shared indicators (一表通: collect once).

Departments name one data item many ways: "60岁以上老人数", "老年人口（60周岁及以上）",
"老年人数". A heading matches an indicator when, after both are put in one canonical form,
their wording is close, the numbers in them agree and their units are compatible:

* canonical form: full-width → half-width (NFKC), synonyms rewritten to one word (老人 /
  老年人 / 老年人口 → 老年, 周岁 → 岁, 及以上 → 以上, 残障 → 残疾, 最低生活保障 → 低保 …),
  neutral prefixes dropped (总户数 → 户数), and the counted noun at the end taken off as an
  implied unit (低保户数 → 低保 counted in 户, 党员人数 → 党员 counted in 人);
* wording: Dice coefficient of character bigrams, both over the whole text and over its
  tokens in any order ("老年(60岁以上)" = "60岁以上老年"), and a containment bonus;
* numbers: "60岁以上" and "65岁以上" (or "80岁以上") are different items, so numbers that
  disagree cap the score far below a match;
* units: 人, 户, 个, 元 … are different things counted; a different unit lowers the score
  strongly, a different scale of one unit (元 / 万元) a little;
* one wording inside the other is the same item only when what it adds is neutral (辖区, 实有,
  年末 …): "食品安全检查" is narrower than "安全检查";
* equal scores are told apart by meaning and use (the unit written, the indicator's own name
  over an alias, how many templates ask for it), never by code.

Pure functions: the indicators are given (anything with code, name, aliases and unit).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MATCHED = 0.75
SUGGESTED = 0.5


class Named(Protocol):
    code: str
    name: str
    aliases: Sequence[str]
    unit: str


@dataclass(frozen=True)
class Candidate:
    """An indicator a heading may be, with a score in 0..1 and why."""

    code: str
    name: str
    unit: str
    score: float
    reason: str
    via: str  # the name or alias that matched best

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "score": round(self.score, 3),
            "reason": self.reason,
            "via": self.via,
        }


# ---- units ----------------------------------------------------------------------------------

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


# ---- canonical text -------------------------------------------------------------------------

# Spellings of one idea, rewritten to one word. Longest first, in one pass.
SYNONYMS = {
    "老年人口": "老年",
    "老年人": "老年",
    "老人": "老年",
    "长者": "老年",
    "周岁": "岁",
    "及以上": "以上",
    "及以下": "以下",
    "以上(含)": "以上",
    "以下(含)": "以下",
    "(含)": "",
    "残障人士": "残疾人",
    "残疾人士": "残疾人",
    "残障": "残疾",
    "最低生活保障": "低保",
    "中共党员": "党员",
    # A grid's or community's party organisation is its 党支部 (or 党小组): one item.
    "党支部": "党组织",
    "共产党员": "党员",
    "人口数": "人数",
    "人员数": "人数",
    "人员数量": "人数",
    "人口数量": "人数",
    "数量": "数",
    "个数": "数",
    "户数量": "户数",
    "居民户": "户",
    "家庭户": "户",
    "住户": "户",
    "平方公里": "平方千米",
    "未满": "",
    "不满": "",
}
_SYNONYM_PATTERN = re.compile(
    "|".join(re.escape(s) for s in sorted(SYNONYMS, key=len, reverse=True))
)

# Words before a noun that do not change what is counted (总户数 = 户数).
NEUTRAL_PREFIXES = (
    "合计",
    "共计",
    "实有",
    "现有",
    "总",
    # When it is read: a stock is read at the period's end anyway (年末户籍人口 = 户籍人口).
    "年末",
    "期末",
    "月末",
    "季末",
    "年底",
    "月底",
    "目前",
    "当前",
)
# Words after it that do not either (60岁以上老人合计 = 60岁以上老人).
NEUTRAL_SUFFIXES = ("合计", "总计", "小计", "总数", "总量")

# The counted noun at the end of a heading, taken off as its implied unit (longest first).
COUNTED = [
    ("人数", "人"),
    ("人口", "人"),
    ("人员", "人"),
    ("户数", "户"),
    ("件数", "件"),
    ("次数", "次"),
    ("人次", "人次"),
    ("家数", "家"),
    ("栋数", "栋"),
    ("幢数", "栋"),
    ("座数", "座"),
    ("所数", "所"),
    ("处数", "处"),
    ("起数", "起"),
    ("宗数", "宗"),
    ("套数", "套"),
    ("间数", "间"),
    ("辆数", "辆"),
    ("台数", "台"),
    ("条数", "条"),
    ("户", "户"),
    ("人", "人"),
    ("数", ""),
]

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(岁)?\s*(以上|以下)?")
_NUMBER_TOKEN = re.compile(r"(\d+(?:\.\d+)?岁?(?:以上|以下)?)")
# Dots, dashes and tildes stay: they are part of numbers and ranges (0.5, 18-60岁).
_PUNCTUATION = re.compile(r"[\s_/\\|·•,，、;；:：\"'“”‘’!！?？*#]+")
_BRACKETS = re.compile(r"[()\[\]{}<>《》【】]+")


@dataclass(frozen=True)
class Text:
    """A heading or indicator name in canonical form."""

    text: str  # canonical, brackets removed
    tokens: tuple[str, ...]  # its parts between brackets and around numbers
    numbers: frozenset[str]  # "60+" (60岁以上), "18-" (18岁以下), "3"
    unit: str  # explicit, or implied by the counted noun


def _strip_main(main: str) -> tuple[str, str]:
    """The main part of a heading without neutral prefixes and its counted noun, and the
    unit that noun implies."""
    for _round in range(2):  # "年末实有人口"
        for prefix in NEUTRAL_PREFIXES:
            if main.startswith(prefix) and len(main) > len(prefix) + 1:
                main = main[len(prefix) :]
                break
    for suffix in NEUTRAL_SUFFIXES:
        if main.endswith(suffix) and len(main) > len(suffix) + 1:
            main = main[: -len(suffix)]
            break
    unit = ""
    # Twice at most: "户籍人口数" is 户籍 counted in 人 as "户籍人口" is.
    for _round in range(2):
        for noun, noun_unit in COUNTED:
            if main == noun:  # "户数" alone: the noun is all there is
                return main, unit or noun_unit
            if main.endswith(noun):
                main, unit = main[: -len(noun)], unit or noun_unit
                break
        else:
            break
    return main, unit


def canonical(raw: str, unit: str = "") -> Text:
    """`raw` (and its unit, if given apart) put in the canonical form described above."""
    text, explicit = split_unit(raw)
    text = _SYNONYM_PATTERN.sub(lambda m: SYNONYMS[m.group(0)], text.lower())
    text = _PUNCTUATION.sub("", text)
    # Brackets that are left hold a qualifier ("老年人口（60周岁及以上）"): kept as a token.
    parts = [p for p in _BRACKETS.split(text) if p]
    implied = ""
    for i, part in enumerate(parts):
        if not _NUMBER_TOKEN.fullmatch(part):
            parts[i], implied = _strip_main(part)
            break
    text = "".join(parts)
    numbers = frozenset(
        m.group(1) + {"以上": "+", "以下": "-"}.get(m.group(3) or "", "")
        for m in _NUMBER.finditer(text)
    )
    tokens = tuple(t for part in parts for t in _NUMBER_TOKEN.split(part) if t)
    return Text(text, tokens, numbers, canonical_unit(unit) or explicit or implied)


def _bigrams(text: str) -> Counter:
    padded = f"^{text}$"
    return Counter(padded[i : i + 2] for i in range(len(padded) - 1))


def _dice(a: Counter, b: Counter) -> float:
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 0.0


def wording(a: Text, b: Text) -> float:
    """How close two canonical texts are, 0..1, whatever the order of their tokens."""
    if a.text == b.text:
        return 1.0
    if sorted(a.tokens) == sorted(b.tokens):
        return 1.0
    whole = _dice(_bigrams(a.text), _bigrams(b.text))
    by_token = _dice(
        sum((_bigrams(t) for t in a.tokens), Counter()),
        sum((_bigrams(t) for t in b.tokens), Counter()),
    )
    score = max(whole, by_token)
    short, long = sorted((a.text, b.text), key=len)
    # One wording inside the other: the same item named more or less fully when what is
    # added only places or qualifies it loosely ("辖区企业" is 企业); a narrower item when it
    # adds a thing ("食品安全检查" is not every 安全检查, "网格党组织" not every 党组织).
    # Too short a text (2 characters) is inside too many others.
    if len(short) >= 3 and short in long:
        extra = long.replace(short, "", 1)
        if not _NEUTRAL_EXTRA.sub("", extra):
            score = max(score, 0.6 + 0.4 * len(short) / len(long))
        else:
            score = max(score, 0.5 + 0.3 * len(short) / len(long))
    # The same words in another order ("巡山护林" and "护林巡山").
    if len(a.text) >= 4 and sorted(a.text) == sorted(b.text):
        score = max(score, 0.9)
    return score


# What a wording may add to another and still name the same item.
_NEUTRAL_EXTRA = re.compile(
    r"辖区|本辖区|区内|全部|各类|所有|累计|合计|共计|总|实有|现有|在册|登记|持证|已|有|排查|发现|"
    r"年末|期末|月末|季末|年底|月底|截至|目前|当前|本月|当月|本期|数|量|情况|"
    r"人员|对象|人|户|个|家|名"
)


def _numbers_agree(heading: Text, names: list[Text]) -> tuple[float, str]:
    """Numbers name the item: 60岁以上 and 80岁以上 are different indicators. An indicator's
    numbers are those of any of its names (an alias may leave them out)."""
    theirs = frozenset().union(*(n.numbers for n in names))
    if not heading.numbers:
        return 1.0, ""
    if not theirs:
        return 0.6, f"the heading has {', '.join(sorted(heading.numbers))}, the indicator none"
    if heading.numbers == theirs or any(n.numbers == heading.numbers for n in names):
        return 1.0, ""
    return 0.3, (
        f"numbers differ: {', '.join(sorted(heading.numbers))} vs {', '.join(sorted(theirs))}"
    )


def score(heading: str, unit: str, indicator: Named) -> Candidate:
    """How likely `heading` (with `unit`, "" if unknown) is `indicator`."""
    names = [indicator.name, *(indicator.aliases or [])]
    own = canonical(heading, unit)
    theirs = [canonical(name, indicator.unit) for name in names]
    # A heading "group/leaf" ("60岁以上老人/人数"): the leaf alone, or with its group when the
    # leaf only says what is counted.
    leaf = heading.rsplit("/", 1)
    wordings = [own]
    if len(leaf) == 2:
        wordings = [canonical(leaf[1], unit), canonical(leaf[0] + leaf[1], unit)]
    best, via, base = 0.0, indicator.name, wordings[0]
    for mine in wordings:
        for name, text in zip(names, theirs, strict=True):
            value = wording(mine, text)
            if value > best:
                best, via, base = value, name, mine
    factor_n, why_n = _numbers_agree(base, theirs)
    factor_u, why_u = unit_agreement(base.unit, canonical_unit(indicator.unit) or theirs[0].unit)
    value = best * factor_u
    # Disagreeing numbers cap the score (a different item); numbers only in the heading
    # make it a narrower item than the indicator.
    value = min(value, factor_n) if factor_n <= 0.3 else value * factor_n
    reasons = [why for why in (why_n, why_u) if why]
    if best == 1.0:
        lead = "same name" if via == indicator.name else f"same as the alias {via}"
    else:
        lead = f"similar to {via} ({best:.2f})"
    return Candidate(
        code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        score=max(0.0, min(1.0, value)),
        reason="; ".join([lead, *reasons]),
        via=via,
    )


def rank(
    heading: str,
    unit: str,
    indicators: Iterable[Named],
    *,
    limit: int = 5,
    uses: dict[str, int] | None = None,
) -> list[Candidate]:
    """The indicators `heading` may be, best first, down to half of a match.

    Equal scores are told apart by meaning, then use, never by code: the unit written
    with the heading being the indicator's own, the heading naming the indicator by its
    name rather than an alias, then how many templates ask for it already (`uses`, by
    code), then the closer length of wording."""
    uses = uses or {}
    own = canonical(heading, unit)
    candidates = [score(heading, unit, indicator) for indicator in indicators]
    candidates = [c for c in candidates if c.score >= SUGGESTED * 0.6]

    def order(c: Candidate):
        same_unit = bool(own.unit) and canonical_unit(c.unit) == own.unit
        length = abs(len(canonical(c.via).text) - len(own.text))
        return (-round(c.score, 3), not same_unit, c.via != c.name, -uses.get(c.code, 0), length)

    candidates.sort(key=order)
    return candidates[:limit]


def status(candidates: list[Candidate]) -> str:
    """matched (≥ MATCHED), suggested (≥ SUGGESTED) or new."""
    top = candidates[0].score if candidates else 0.0
    if top >= MATCHED:
        return "matched"
    if top >= SUGGESTED:
        return "suggested"
    return "new"
