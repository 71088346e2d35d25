"""Checking a definition before it is stored or previewed: every problem names the place in
the JSON it is about ("where.0.op", "measure.sum", "time.within"), so the page and the API can
point at it. Catalogue codes (tags and their levels, unit types, categories) are checked
against the catalogues as they are now."""

from __future__ import annotations

import datetime as dt
import math

from django.utils.translation import gettext as _

from grids import scoping
from grids.problems import Problem
from grids.timestamps import LATEST_YEAR
from reports import subjects
from reports.subjects import (
    BOOLEAN,
    CHOICE,
    CODE,
    DATE,
    DATETIME,
    NUMBER,
    REF,
    TAGS,
    TEXT,
    Field,
    Subject,
)

COMPARE = ("=", "!=", "<", "<=", ">", ">=", "between", "in", "not_in")
NULLS = ("is_null", "not_null")
OPS = {
    NUMBER: COMPARE + NULLS,
    DATE: COMPARE + NULLS,
    DATETIME: COMPARE + NULLS,
    TEXT: ("=", "!=", "in", "not_in") + NULLS,
    CHOICE: ("=", "!=", "in", "not_in") + NULLS,
    CODE: ("=", "!=", "in", "not_in") + NULLS,
    TAGS: ("has", "has_any") + NULLS,
    BOOLEAN: ("=", "!=") + NULLS,
    REF: NULLS,
}
ALL_OPS = sorted({op for ops in OPS.values() for op in ops})
KEYS = {"subject", "where", "measure", "time", "note"}
MAX_CONDITIONS = 50
MAX_LIST = 200
MAX_DEPTH = 3
# Dates a definition may name: nobody alive was born before the first, and the last keeps
# the compiler's day arithmetic (the day after a date, in local time) inside what a date holds.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(LATEST_YEAR, 12, 31)


class Checker:
    def __init__(self, subject: Subject, personal: bool = True):
        self.subject = subject
        # Whether the definer may name personal fields (reports.subjects.Field.personal).
        self.personal = personal
        self.problems: list[Problem] = []
        self.count = 0
        self._choices: dict[str, set[str]] = {}

    def problem(self, code: str, where: str, message: str, value=None) -> None:
        self.problems.append(
            Problem(code, message, field=where, value=None if value is None else str(value)[:200])
        )

    def refuses(self, f: Field, where: str) -> bool:
        """A personal field named by a definer who may not see personal data: refused, as a
        per-grid count filtered on it says whether a named person lives in a grid."""
        if not f.personal or self.personal:
            return False
        self.problem(
            "personal_field",
            where,
            _(
                "%(field)s is personal data, which your role may not see: count by age, "
                "sex, registration or tags instead"
            )
            % {"field": f"{f.label} ({f.name})"},
            f.name,
        )
        return True

    def codes(self, f: Field) -> set[str] | None:
        if f.choices is None:
            return None
        if f.name not in self._choices:
            self._choices[f.name] = {str(code) for code, _name in f.choices()}
        return self._choices[f.name]

    # ---- where ------------------------------------------------------------------------
    def conditions(self, items, where: str, depth: int = 0) -> None:
        if not isinstance(items, list):
            self.problem("not_a_list", where, _("a list of conditions is expected"), items)
            return
        for i, item in enumerate(items):
            self.condition(item, f"{where}.{i}", depth)

    def condition(self, item, where: str, depth: int) -> None:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            if self.count == MAX_CONDITIONS + 1:
                self.problem(
                    "too_many", where, _("at most %(n)d conditions") % {"n": MAX_CONDITIONS}
                )
            return
        if not isinstance(item, dict):
            self.problem("not_an_object", where, _("a condition is an object"), item)
            return
        if "any" in item:
            if set(item) != {"any"}:
                extra = ", ".join(sorted(set(item) - {"any"}))
                self.problem(
                    "unknown_key", where, _("an 'any' group has no other keys: %s") % extra
                )
            if depth >= MAX_DEPTH:
                self.problem(
                    "too_deep", f"{where}.any", _("'any' groups nest at most %d deep") % MAX_DEPTH
                )
                return
            if not isinstance(item["any"], list) or len(item["any"]) < 2:
                self.problem(
                    "any_too_short",
                    f"{where}.any",
                    _("'any' needs a list of two conditions or more"),
                )
                return
            self.conditions(item["any"], f"{where}.any", depth + 1)
            return
        extra = set(item) - {"field", "op", "value", "level"}
        if extra:
            self.problem(
                "unknown_key",
                f"{where}.{sorted(extra)[0]}",
                _("unknown key; a condition has field, op, value and (for tags) level"),
            )
        name = item.get("field")
        f = self.subject.field(name) if isinstance(name, str) else None
        if f is None:
            self.problem(
                "unknown_field",
                f"{where}.field",
                _("%(subject)s have no field %(field)s; they have: %(fields)s")
                % {
                    "subject": self.subject.label,
                    "field": repr(name),
                    "fields": ", ".join(self.subject.fields),
                },
                name,
            )
            return
        if self.refuses(f, f"{where}.field"):
            return
        op = item.get("op")
        if op not in OPS[f.kind]:
            self.problem(
                "bad_op",
                f"{where}.op",
                _("%(op)s cannot be used on %(field)s; use one of %(ops)s")
                % {"op": repr(op), "field": f.name, "ops": " ".join(OPS[f.kind])},
                op,
            )
            return
        if "level" in item and f.kind != TAGS:
            self.problem("unknown_key", f"{where}.level", _("only a tag has a level"))
        if op in NULLS:
            if item.get("value") is not None:
                self.problem("no_value", f"{where}.value", _("%s takes no value") % op)
            return
        if "value" not in item:
            self.problem("missing", f"{where}.value", _("a value is required"))
            return
        self.value(f, op, item["value"], item.get("level"), where)

    def value(self, f: Field, op: str, value, level, where: str) -> None:
        here = f"{where}.value"
        if op in ("in", "not_in", "has_any"):
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                self.problem(
                    "not_a_list",
                    here,
                    _("%(op)s takes a list of 1 to %(n)d values") % {"op": op, "n": MAX_LIST},
                    value,
                )
                return
            for i, one in enumerate(value):
                self.scalar(f, one, f"{here}.{i}")
            return
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.problem(
                    "not_a_range", here, _("between takes [lowest, highest], both included"), value
                )
                return
            low, high = (self.scalar(f, one, f"{here}.{i}") for i, one in enumerate(value))
            if low is not None and high is not None and low > high:
                self.problem("empty_range", here, _("the lowest value is above the highest"), value)
            return
        # A level is checked only on a tag that is one (a list or an object is no key).
        if self.scalar(f, value, here) is not None and op == "has" and level is not None:
            levels = (f.levels() if f.levels else {}).get(value, [])
            if level not in levels:
                self.problem(
                    "unknown_level",
                    f"{where}.level",
                    _("%(tag)s has no level %(level)s; its levels are: %(levels)s")
                    % {
                        "tag": value,
                        "level": repr(level),
                        "levels": "、".join(levels) or _("none"),
                    },
                    level,
                )

    def scalar(self, f: Field, value, where: str):
        """The value as the field compares it, or None after recording a problem."""
        if f.kind == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.problem("not_a_number", where, _("a number is expected"), value)
                return None
            if isinstance(value, float) and not math.isfinite(value):
                # JSON's 1e400 is read as infinity.
                self.problem("not_a_number", where, _("is not a finite number"), value)
                return None
            if f.lookup is not None and (not 0 <= value <= 200 or value != int(value)):
                # Age in whole years.
                self.problem("bad_number", where, _("a whole number from 0 to 200"), value)
                return None
            return value
        if f.kind in (DATE, DATETIME):
            try:
                day = dt.date.fromisoformat(value)
            except (TypeError, ValueError):
                self.problem("not_a_date", where, _("a date like 2026-10-31 is expected"), value)
                return None
            if not FIRST_DAY <= day <= LAST_DAY:
                self.problem(
                    "out_of_range",
                    where,
                    _("%(field)s %(value)s is out of range: dates run from %(first)s to %(last)s")
                    % {
                        "field": f.name,
                        "value": day.isoformat(),
                        "first": FIRST_DAY.isoformat(),
                        "last": LAST_DAY.isoformat(),
                    },
                    value,
                )
                return None
            return day
        if f.kind == BOOLEAN:
            if not isinstance(value, bool):
                self.problem("not_a_boolean", where, _("true or false is expected"), value)
                return None
            return value
        if not isinstance(value, str) or not value or len(value) > 200:
            self.problem("not_a_text", where, _("a text of 1 to 200 characters is expected"), value)
            return None
        codes = self.codes(f)
        if codes is not None and value not in codes:
            shown = "、".join(sorted(codes)[:40])
            self.problem(
                "unknown_code",
                where,
                _("%(value)s is not a code of %(field)s; codes: %(codes)s")
                % {"value": repr(value), "field": f.name, "codes": shown},
                value,
            )
            return None
        return value

    # ---- measure and time -------------------------------------------------------------
    def measure(self, measure) -> None:
        if measure == "count":
            return
        if isinstance(measure, dict) and len(measure) == 1:
            ((kind, name),) = measure.items()
            where = f"measure.{kind}"
            if kind not in ("sum", "distinct"):
                self.problem(
                    "bad_measure", "measure", _('"count", {"sum": field} or {"distinct": field}')
                )
                return
            f = self.subject.field(name) if isinstance(name, str) else None
            if f is not None and self.refuses(f, where):
                return
            if f is None or not f.measurable or (kind == "sum" and f.kind != NUMBER):
                usable = [
                    x.name
                    for x in self.subject.fields.values()
                    if x.measurable and (kind == "distinct" or x.kind == NUMBER)
                ]
                self.problem(
                    "bad_measure",
                    where,
                    _("%(measure)s cannot use %(field)s; it can use: %(fields)s")
                    % {
                        "measure": kind,
                        "field": repr(name),
                        "fields": ", ".join(usable) or _("none"),
                    },
                    name,
                )
            return
        self.problem(
            "bad_measure", "measure", _('"count", {"sum": field} or {"distinct": field}'), measure
        )

    def time(self, time) -> None:
        if time == "stock":
            if not self.subject.stock:
                self.problem(
                    "not_a_stock",
                    "time",
                    _('%s are counted within a period, not on a day: use {"within": field}')
                    % self.subject.label,
                )
            return
        if isinstance(time, dict) and set(time) == {"within"}:
            f = self.subject.field(time["within"]) if isinstance(time["within"], str) else None
            if f is not None and self.refuses(f, "time.within"):
                return
            if f is None or not f.flow:
                flows = [x.name for x in self.subject.fields.values() if x.flow]
                self.problem(
                    "bad_time",
                    "time.within",
                    _("%(field)s is not a date to count within; dates: %(fields)s")
                    % {"field": repr(time["within"]), "fields": ", ".join(flows) or _("none")},
                    time["within"],
                )
            return
        self.problem("bad_time", "time", _('"stock" or {"within": date field}'), time)


def validate(definition, user=None) -> list[Problem]:
    """Every problem of a definition (an empty list: it can be computed). With `user`, the
    definer: one who may not see personal data may not name a personal field. Without, the
    platform itself (seeds, the form matcher), which names none."""
    if not isinstance(definition, dict):
        return [Problem("not_an_object", _("a definition is a JSON object"), field="definition")]
    problems = [
        Problem("unknown_key", _("unknown key"), field=key)
        for key in sorted(set(definition) - KEYS)
    ]
    key = definition.get("subject")
    subject = subjects.get(key) if isinstance(key, str) else None
    if subject is None:
        known = ", ".join(s.key for s in subjects.all_subjects())
        problems.append(
            Problem(
                "unknown_subject",
                _("%(subject)s is not a subject; subjects: %(subjects)s")
                % {"subject": repr(key), "subjects": known},
                field="subject",
                value=None if key is None else str(key)[:100],
            )
        )
        return problems
    checker = Checker(subject, personal=user is None or scoping.sees_personal_data(user))
    checker.conditions(definition.get("where", []), "where")
    checker.measure(definition.get("measure", "count"))
    checker.time(definition.get("time", "stock"))
    return problems + checker.problems
