"""Chinese numerals and the character noise of typed addresses, turned into one spelling.

Addresses arrive from ledgers, phones and spreadsheets typed by many hands: full-width digits
(１８８号), Chinese numerals (三单元, 二十一组, 一百零八号), several dashes, spaces and commas.
Two spellings of one door must give one standard address, so the parser reads only the
spelling made here.
"""

from __future__ import annotations

import re
import unicodedata

DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
POWERS = {"十": 10, "百": 100, "千": 1000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(POWERS)

# Numerals are converted only before these markers: 二环路, 五一路 and 三峡广场 are names,
# 三单元 and 五组 are numbers. 附/之 numbers (附一号, 之一) are numbers too.
MARKERS = "号楼|号|栋|幢|座|单元|组|社(?!区)|队|楼|层|室|户|期|段|巷"
NUMERAL_BEFORE_MARKER = re.compile(rf"(?<![{NUMERAL_CHARS}])([{NUMERAL_CHARS}]+)(?={MARKERS})")
NUMERAL_AFTER_LINK = re.compile(rf"(?<=[附之])([{NUMERAL_CHARS}]+)")
# "第" before a number is only emphasis: 第三组 = 3组.
ORDINAL = re.compile(r"第(?=\d)")

DASHES = re.compile(r"[‐‑‒–—―−﹣~～]")
# Separators people type between the parts; they carry no meaning in an address.
SEPARATORS = re.compile(r"[\s,，、。.;；:：·'\"“”‘’]+")
BRACKETS = re.compile(r"[（(【\[]([^）)】\]]*)[）)】\]]")


def numeral_value(text: str) -> int:
    """The value of a Chinese numeral: 二十一 → 21, 一百零八 → 108, 三〇一 → 301 (read digit by
    digit when it has no 十/百/千, as room numbers are spoken)."""
    if not any(char in POWERS for char in text):
        return int("".join(str(DIGITS[char]) for char in text))
    total = 0
    current = 0
    for char in text:
        if char in DIGITS:
            current = DIGITS[char]
        else:
            # 十 alone (十二 = 12) means one ten.
            total += (current or 1) * POWERS[char]
            current = 0
    return total + current


def _numeral(match: re.Match) -> str:
    return str(numeral_value(match.group(1)))


def clean(text: str) -> tuple[str, list[str]]:
    """The typed text in one spelling, and what stood in brackets (notes such as 永川中学对面,
    or an estate name written in brackets), which is not part of the address itself."""
    # NFKC turns full-width digits, letters and punctuation into ASCII (１８８ → 188, Ａ → A).
    text = unicodedata.normalize("NFKC", text)
    text = DASHES.sub("-", text)
    notes = [note.strip() for note in BRACKETS.findall(text) if note.strip()]
    text = BRACKETS.sub("", text)
    text = SEPARATORS.sub("", text).upper()
    text = NUMERAL_BEFORE_MARKER.sub(_numeral, text)
    text = NUMERAL_AFTER_LINK.sub(_numeral, text)
    text = ORDINAL.sub("", text)
    return text, [SEPARATORS.sub("", note) for note in notes]
