"""How the answer keys of the forms set are written: contract C definitions (common.md C,
reports.definitions) and the three kinds of answer, so that the form specs read like the
department's columns and what each one means on the platform.

An answer is {"indicator": "<code>"} (an indicator of the demo catalogue, or one the
platform seeds as a definition), {"definition": {...}} (what the platform can count that
no indicator holds yet) or {"new": {"level": "grid|community|street", "item": "<id>"}}
(nothing means it: typed by that level; `item` names the same new item across forms, so a
later form's column must merge into the indicator an earlier form created). `also` lists
other answers that mean the same (an older collected indicator and its definition)."""

from __future__ import annotations

from dataclasses import dataclass, field

STOCK = "stock"


def within(date_field: str) -> dict:
    return {"within": date_field}


def residents(*where, measure="count", time=STOCK) -> dict:
    return {"subject": "residents", "where": list(where), "measure": measure, "time": time}


def subject(name: str, *where, measure="count", time=STOCK) -> dict:
    return {"subject": name, "where": list(where), "measure": measure, "time": time}


def cond(field_name: str, op: str, value) -> dict:
    return {"field": field_name, "op": op, "value": value}


def tag(code: str, level: str | None = None) -> dict:
    condition = {"field": "tags", "op": "has", "value": code}
    if level:
        condition["level"] = level
    return condition


def age(op: str, value) -> dict:
    return cond("age", op, value)


def registration(kind: str) -> dict:
    return cond("registration", "=", kind)


def unit_type(code: str) -> dict:
    return cond("type", "=", code)


def category(*codes: str) -> dict:
    return (
        cond("category", "=", codes[0]) if len(codes) == 1 else cond("category", "in", list(codes))
    )


DISPUTES = ("070101", "070201", "070401")  # 邻里, 欠薪, 物业纠纷 (incidents.catalogue)
HAZARDS = "06"  # 安全隐患 and its subcategories


def I(code: str, *also) -> dict:  # noqa: E743 - reads as the key's kind
    return {"answer": {"indicator": code}, "also": list(also)}


def D(definition: dict, *also) -> dict:
    return {"answer": {"definition": definition}, "also": list(also)}


def N(level: str, item: str | None = None) -> dict:
    new = {"level": level}
    if item:
        new["item"] = item
    return {"answer": {"new": new}, "also": []}


def ind(code: str) -> dict:
    return {"indicator": code}


def dfn(definition: dict) -> dict:
    return {"definition": definition}


@dataclass
class Col:
    """A column of a form: what the department writes and what it means."""

    text: str  # the leaf heading, without its unit
    unit: str  # "" when the form gives none
    key: dict  # I(...), D(...) or N(...)
    group: str = ""  # the merged heading above it (two-row header), "" for none
    style: str = "full"  # full （人）| half (人) | slash /人 | row (unit row) | none


@dataclass
class Form:
    id: str
    department: tuple[str, str]  # (code, name)
    title: str
    period_type: str  # month, quarter, half_year, year
    row_level: str  # grid, community, street
    columns: list[Col]
    keys: list[str] = field(default_factory=lambda: ["序号", "社区名称"])
    subtitle: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit_row: bool = False  # a row "单位 | 人 | 户 …" under the header
    number_row: bool = False  # a row "甲 | 乙 | 1 | 2 …" under the header
    top_blank: int = 0  # blank rows above the title
    difficulty: list[str] = field(default_factory=list)
    rows: int = 6  # data rows written (last period's figures), then 合计


@dataclass
class Refusal:
    """A sheet no person could read as a form: the import must refuse it, naming why."""

    id: str
    department: tuple[str, str]
    why: str  # numbers_only, no_header, empty
    rows: list[list]
