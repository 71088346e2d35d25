"""Tokens of CQL2 text (OGC 21-065, the cql2-text BNF), each with its 0-based offset."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ogc.cql2.nodes import MAX_TEXT, error

# Kinds: "num", "str" ('...'), "qid" ("..." a quoted property name), "id" (a name or keyword),
# "op" (= <> < <= > >=), "punct" (one of PUNCT), "eof".
PUNCT = "(),[]+-*/^"
OPERATORS = ("<=", ">=", "<>", "=", "<", ">")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int
    value: object = None

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "id" and self.text.upper() in words

    def describe(self) -> str:
        if self.kind == "eof":
            return _("the end of the filter")
        return repr(self.text)


def _identifier_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_:"


def _identifier_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_:." or unicodedata.category(ch) in ("Mn", "Mc", "Pc")


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_TEXT:
        raise error(_("the filter is longer than %(n)d characters") % {"n": MAX_TEXT}, MAX_TEXT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            _("the filter contains a character that is not valid Unicode"), exc.start
        ) from None
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            i = _quoted(text, i, tokens)
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            i = _number(text, i, tokens)
        elif _identifier_start(ch):
            start = i
            while i < n and _identifier_part(text[i]):
                i += 1
            tokens.append(Token("id", text[start:i], start))
        elif text.startswith(OPERATORS, i):
            op = next(o for o in OPERATORS if text.startswith(o, i))
            tokens.append(Token("op", op, i))
            i += len(op)
        elif ch in PUNCT:
            tokens.append(Token("punct", ch, i))
            i += 1
        elif ch == "!" and text.startswith("!=", i):
            raise error(_("'!=' is not CQL2: write <> for 'not equal'"), i)
        else:
            raise error(_("unexpected character %(char)r") % {"char": ch}, i)
    tokens.append(Token("eof", "", n))
    return tokens


def _quoted(text: str, start: int, tokens: list[Token]) -> int:
    """A 'string' or a "quoted name"; the quote doubled stands for itself."""
    quote = text[start]
    parts, i, n = [], start + 1, len(text)
    while True:
        end = text.find(quote, i)
        if end < 0:
            if quote == "'":
                raise error(_("unterminated string: a quote (') is missing"), start)
            raise error(_('unterminated property name: a double quote (") is missing'), start)
        parts.append(text[i:end])
        if end + 1 < n and text[end + 1] == quote:
            parts.append(quote)
            i = end + 2
            continue
        value = "".join(parts)
        if "\x00" in value:
            raise error(_("the filter may not contain a NUL character"), start)
        if quote == "'":
            tokens.append(Token("str", text[start : end + 1], start, value))
        else:
            if not value:
                raise error(_("a quoted property name may not be empty"), start)
            tokens.append(Token("qid", text[start : end + 1], start, value))
        return end + 1


def _number(text: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(text)
    while i < n and text[i].isdigit():
        i += 1
    exact = True
    if i < n and text[i] == ".":
        exact = False
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isdigit():
            exact = False
            i = j
            while i < n and text[i].isdigit():
                i += 1
    literal = text[start:i]
    if len(literal) > 40:  # Python refuses to convert very long integers; none is meaningful
        raise error(_("the number %(n)s is out of range") % {"n": literal[:20] + "…"}, start)
    if exact:
        value: float | int = int(literal)
    else:
        value = float(literal)
        if not math.isfinite(value):
            raise error(_("the number %(n)s is out of range") % {"n": literal}, start)
    tokens.append(Token("num", literal, start, value))
    return i
