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
  over an alias, how many templates ask for it), never by code: candidates equal on all of
  these are a tie, and a tie is only suggested, never matched.

Units (their spellings, reading them from a heading, comparing them) are in
reports.services.measure_units. Pure functions: the indicators are given (anything with
code, name, aliases and unit).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from reports.services.measure_units import (
    UNIT_SPELLINGS,
    UNITS,
    canonical_unit,
    split_unit,
    unit_agreement,
)

# The units' names stay importable from here (callers spell them matching.split_unit …).
__all__ = [
    "MATCHED",
    "SUGGESTED",
    "UNITS",
    "UNIT_SPELLINGS",
    "Candidate",
    "Named",
    "canonical",
    "canonical_unit",
    "rank",
    "score",
    "split_unit",
    "status",
    "unit_agreement",
    "wording",
]

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
    # Equal to the next candidate on every ranking key: which one is meant is not known.
    tied: bool = False

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "score": round(self.score, 3),
            "reason": self.reason,
            "via": self.via,
        }


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
    if len(candidates) > 1 and order(candidates[0]) == order(candidates[1]):
        candidates[0] = replace(candidates[0], tied=True)
    return candidates[:limit]


def status(candidates: list[Candidate]) -> str:
    """matched (≥ MATCHED), suggested (≥ SUGGESTED) or new. A best candidate tied with the
    next on every ranking key is only suggested: code order must not choose between them."""
    top = candidates[0].score if candidates else 0.0
    if top >= MATCHED and not candidates[0].tied:
        return "matched"
    if top >= SUGGESTED:
        return "suggested"
    return "new"
