"""Scoring a form's proposals against its answer key: pure functions, no database.

A column is right when the proposal means what the key says:
- the key names an indicator: the proposal chose that indicator (or one of `also`), or
  proposed a definition equal in meaning to the indicator's own definition;
- the key gives a definition: the proposal proposed an equal one, or chose an indicator
  whose definition is equal;
- the key says "new": the proposal is a new item; when the key's `item` was created by an
  earlier form of the set, only that indicator is right (the wording must merge into it).

Definitions are compared by meaning (`meaning`): same subject, the same conditions once
normalised (an integer range written with <, <=, >, >=, = or between is one interval;
"=" is "in" of one value; has_any of one tag is has; an `any` of one condition is that
condition; age >= 0 says nothing), the same measure and the same time. "Closed within the
period" already says closed, so a status condition of closed (and assessed) beside it is
dropped."""

from __future__ import annotations

from collections.abc import Callable

INTEGER_FIELDS = {"age", "floors", "built_year", "employees", "member_count"}
CLOSED = frozenset({"closed", "assessed"})


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _interval(op: str, value) -> tuple | None:
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return (value[0], value[1])
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return {
        "<": (None, value - 1),
        "<=": (None, value),
        ">": (value + 1, None),
        ">=": (value, None),
        "=": (value, value),
    }.get(op)


def _conditions(where: list) -> frozenset:
    intervals: dict[str, tuple] = {}
    out = set()
    for condition in where or []:
        if not isinstance(condition, dict):
            out.add(("?", _hashable(condition)))
            continue
        if "any" in condition:
            inner = _conditions(condition["any"])
            if len(inner) == 1:
                out |= inner
            else:
                out.add(("any", inner))
            continue
        field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
        if field in INTEGER_FIELDS and op in ("<", "<=", ">", ">=", "=", "between"):
            span = _interval(op, value)
            if span is not None:
                lo, hi = intervals.get(field, (None, None))
                lo = span[0] if lo is None else (lo if span[0] is None else max(lo, span[0]))
                hi = span[1] if hi is None else (hi if span[1] is None else min(hi, span[1]))
                intervals[field] = (lo, hi)
                continue
        if op == "=":
            out.add((field, "in", frozenset([_hashable(value)])))
        elif op == "!=":
            out.add((field, "not_in", frozenset([_hashable(value)])))
        elif op in ("in", "not_in") and isinstance(value, list):
            out.add((field, op, frozenset(_hashable(v) for v in value)))
        elif op == "has":
            out.add((field, "has", value, condition.get("level") or None))
        elif op == "has_any" and isinstance(value, list) and len(value) == 1:
            out.add((field, "has", value[0], condition.get("level") or None))
        elif op == "has_any" and isinstance(value, list):
            out.add((field, "has_any", frozenset(value)))
        else:
            out.add((field, op, _hashable(value)))
    for field, (lo, hi) in intervals.items():
        if field == "age" and lo == 0:
            lo = None
        if lo is not None or hi is not None:
            out.add((field, "range", lo, hi))
    return frozenset(out)


def _measure(measure) -> tuple:
    if measure in (None, "count") or measure == {"count": None}:
        return ("count",)
    if isinstance(measure, dict) and len(measure) == 1:
        (kind, field), *_rest = measure.items()
        if kind == "count":
            return ("count",)
        return (kind, field)
    return ("?", _hashable(measure))


def _time(time) -> tuple:
    if time in (None, "stock"):
        return ("stock",)
    if isinstance(time, dict) and "within" in time:
        return ("within", time["within"])
    return ("?", _hashable(time))


def meaning(definition: dict | None) -> tuple | None:
    """A definition reduced to what it means, comparable with ==; None for no definition."""
    if not isinstance(definition, dict) or "subject" not in definition:
        return None
    conditions = _conditions(definition.get("where") or [])
    time = _time(definition.get("time"))
    if time == ("within", "closed_at"):
        conditions = frozenset(
            c for c in conditions if not (c[0] == "status" and c[1] == "in" and c[2] <= CLOSED)
        )
    return (definition["subject"], conditions, _measure(definition.get("measure")), time)


def proposed(proposal: dict | None) -> dict:
    """What a proposal chose, as {"indicator": code} | {"definition": d} | {"new": spec} |
    {"skip": True} | {} (no choice)."""
    if not proposal:
        return {}
    choice = proposal.get("choice") or {}
    if choice.get("indicator"):
        return {"indicator": choice["indicator"]}
    if isinstance(choice.get("definition"), dict):
        return {"definition": choice["definition"]}
    new = choice.get("new")
    if isinstance(new, dict):
        if isinstance(new.get("definition"), dict):
            return {"definition": new["definition"]}
        return {"new": new}
    if choice.get("skip"):
        return {"skip": True}
    return {}


def is_right(
    got: dict,
    key: dict,
    *,
    definition_of: Callable[[str], dict | None],
    created: dict[str, str],
) -> bool:
    """Whether the proposal `got` (from `proposed`) means what the key column says."""
    answers = [key["answer"], *key.get("also", [])]
    new = key["answer"].get("new")
    if new is not None:
        item_code = created.get(new.get("item") or "")
        if item_code:
            return got.get("indicator") == item_code
        return "new" in got
    got_meaning = None
    if "definition" in got:
        got_meaning = meaning(got["definition"])
    elif "indicator" in got:
        got_meaning = meaning(definition_of(got["indicator"]))
    for answer in answers:
        code = answer.get("indicator")
        if code and got.get("indicator") == code:
            return True
        wanted = meaning(answer["definition"]) if "definition" in answer else None
        if wanted is None and code:
            wanted = meaning(definition_of(code))
        if wanted is not None and got_meaning == wanted:
            return True
    return False


def describe(got: dict) -> str:
    """A proposal in one short line, for the error lists."""
    if "indicator" in got:
        return f"indicator {got['indicator']}"
    if "definition" in got:
        d = got["definition"]
        return f"definition {d.get('subject')} {d.get('where')} {d.get('measure')} {d.get('time')}"
    if "new" in got:
        return f"new ({got['new'].get('level', '?')})"
    if got.get("skip"):
        return "skip"
    return "nothing"


def score_form(
    key: dict,
    proposals: list[dict],
    *,
    definition_of: Callable[[str], dict | None],
    created: dict[str, str],
) -> dict:
    """Per key column: right or not, with what was proposed; extra columns the matcher read
    that are not data columns of the form (a key column taken for data) count as errors."""
    by_letter = {letter_of(p.get("cell", "")): p for p in proposals}
    columns = []
    for letter, column in key["columns"].items():
        proposal = by_letter.get(letter)
        got = proposed(proposal)
        right = proposal is not None and is_right(
            got, column, definition_of=definition_of, created=created
        )
        level_ok = None
        if "new" in column["answer"] and "new" in got:
            level_ok = got["new"].get("level") == column["answer"]["new"]["level"]
        columns.append(
            {
                "column": letter,
                "heading": column["heading"],
                "kind": next(iter(column["answer"])),
                "right": right,
                "missing": proposal is None,
                "level_right": level_ok,
                "expected": column["answer"],
                "got": describe(got) if proposal is not None else "column not read",
            }
        )
    extras = [
        {"column": letter, "heading": p.get("heading", ""), "got": describe(proposed(p))}
        for letter, p in by_letter.items()
        if letter not in key["columns"]
    ]
    right = sum(c["right"] for c in columns)
    return {
        "form": key["form"],
        "department": key["department"]["name"],
        "columns": len(columns),
        "extras": len(extras),
        "right": right,
        "results": columns,
        "extra_columns": extras,
    }


def letter_of(cell: str) -> str:
    return "".join(ch for ch in cell if ch.isalpha())


def totals(scored: list[dict]) -> dict:
    """Accuracy over the forms: right / (key columns + extra columns read)."""
    columns = sum(s["columns"] for s in scored)
    extras = sum(s["extras"] for s in scored)
    right = sum(s["right"] for s in scored)
    by_kind: dict[str, list[int]] = {}
    for s in scored:
        for c in s["results"]:
            seen = by_kind.setdefault(c["kind"], [0, 0])
            seen[0] += c["right"]
            seen[1] += 1
    levels = [
        c["level_right"] for s in scored for c in s["results"] if c["level_right"] is not None
    ]
    return {
        "columns": columns,
        "extra_columns": extras,
        "right": right,
        "accuracy": round(right / (columns + extras), 4) if columns + extras else None,
        "by_kind": {k: {"right": v[0], "of": v[1]} for k, v in sorted(by_kind.items())},
        "new_level_right": {"right": sum(levels), "of": len(levels)},
    }
