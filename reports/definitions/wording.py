"""A definition read out as a sentence (Chinese on a Chinese page): what the page shows under
the editor and the merge shows beside a proposed definition, so a department can check it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports import subjects
from reports.subjects import CODE, Field, Subject


def _ops() -> dict[str, str]:
    return {
        "=": _("%(field)s is %(value)s"),
        "!=": _("%(field)s is not %(value)s"),
        "<": _("%(field)s below %(value)s"),
        "<=": _("%(field)s at most %(value)s"),
        ">": _("%(field)s above %(value)s"),
        ">=": _("%(field)s at least %(value)s"),
        "between": _("%(field)s from %(low)s to %(high)s"),
        "in": _("%(field)s is one of %(value)s"),
        "not_in": _("%(field)s is none of %(value)s"),
        "has": _("tagged %(value)s"),
        "has_any": _("tagged any of %(value)s"),
        "is_null": _("%(field)s not filled in"),
        "not_null": _("%(field)s filled in"),
    }


class Reader:
    def __init__(self, subject: Subject):
        self.subject = subject
        self.names: dict[str, dict[str, str]] = {}

    def name(self, f: Field | None, value) -> str:
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if f is None or f.choices is None:
            return str(value)
        if f.name not in self.names:
            self.names[f.name] = {str(code): str(name) for code, name in f.choices()}
        return self.names[f.name].get(str(value), str(value))

    def condition(self, item: dict) -> str:
        if "any" in item:
            parts = [self.condition(part) for part in item.get("any") or []]
            return "（" + _(" or ").join(parts) + "）"
        f = self.subject.field(item.get("field"))
        label = str(f.label) if f else str(item.get("field"))
        op = item.get("op")
        value = item.get("value")
        template = _ops().get(op, "%(field)s " + str(op) + " %(value)s")
        if op == "between" and isinstance(value, list) and len(value) == 2:
            return template % {
                "field": label,
                "low": self.name(f, value[0]),
                "high": self.name(f, value[1]),
            }
        if isinstance(value, list):
            shown = "、".join(self.name(f, v) for v in value)
        else:
            shown = self.name(f, value)
        if op == "has" and item.get("level"):
            shown = f"{shown}（{item['level']}）"
        if f is not None and f.kind == CODE and op in ("=", "in", "!=", "not_in"):
            shown += _(" (with the classes under it)")
        return template % {"field": label, "value": shown}


def describe(definition: dict) -> str:
    """One sentence: "居民中年龄不小于80，按期末存量计人数" and the like."""
    subject = subjects.get(definition.get("subject")) if isinstance(definition, dict) else None
    if subject is None:
        return _("an unknown subject")
    reader = Reader(subject)
    where = definition.get("where") or []
    conditions = _(", and ").join(reader.condition(item) for item in where)
    measure = definition.get("measure", "count")
    if measure == "count":
        what = _("the number (%(unit)s)") % {"unit": subject.unit}
    else:
        ((kind, name),) = measure.items()
        f = subject.field(name)
        label = str(f.label) if f else str(name)
        what = (
            _("the total of %(field)s") if kind == "sum" else _("the number of distinct %(field)s")
        ) % {"field": label}
    time = definition.get("time", "stock")
    if time == "stock":
        when = _("existing at the period's end") + (
            f"（{subject.stock_means}）" if subject.stock_means else ""
        )
    else:
        f = subject.field(time.get("within"))
        when = _("%(field)s within the period") % {
            "field": str(f.label) if f else time.get("within")
        }
    if conditions:
        return _("%(subject)s with %(conditions)s, %(when)s: %(measure)s") % {
            "subject": subject.label,
            "conditions": conditions,
            "when": when,
            "measure": what,
        }
    return _("All %(subject)s, %(when)s: %(measure)s") % {
        "subject": subject.label,
        "when": when,
        "measure": what,
    }
