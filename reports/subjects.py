"""The registry of subjects an indicator can be defined over as data (issue #17): residents,
households, buildings, units, incidents, sensors … Each is declared by the app that owns its
model (`reports` imports no feature app): the rows it counts, the grid each row was in on a
day, and the fields a definition may filter on, sum or count distinct.

A subject's `rows(context, stock)` returns a queryset annotated with `grid_on` (the grid the
row belonged to on `context.on`, with the boundaries and histories valid then) and limited to
`context.grid_ids`; a stock is the rows existing on that day, a flow every row whose grid is
known then (the definition's "within" filter picks the period's). `reports.definitions`
compiles the filter and measure onto it and runs one GROUP BY grid_on per period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

# Kinds of field, which decide the operators a definition may use on them.
NUMBER = "number"  # integers or decimals: comparisons, between, in
TEXT = "text"  # free text: equality, in, null
CHOICE = "choice"  # a fixed or catalogue list of codes: equality, in
CODE = "code"  # a hierarchical catalogue code: a parent code matches its children
TAGS = "tags"  # an array of catalogue codes, each with an optional level: has, has_any
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
REF = "ref"  # a related row (a resident's household): counted distinct, not compared

KINDS = (NUMBER, TEXT, CHOICE, CODE, TAGS, DATE, DATETIME, BOOLEAN, REF)


@dataclass(frozen=True)
class Field:
    """A field of a subject a definition may name.

    `path` is the ORM path on the subject's rows. `choices` reads the allowed codes with
    their names when asked (catalogues are data: an administrator may add a tag or a unit
    type). A CODE field matches a code and its descendants through `parent` (the FK to
    the parent node, `depth` levels deep, all in the one statement). A TAGS field's levels
    come from `levels` ({code: [level names]}) and are stored in `level_path` ({code:
    level}). `lookup(op, value, on)` replaces the plain lookup for a computed field (age
    at the period's last day becomes a range of birth dates). `flow` says the field is a
    date a flow may be counted "within"; `measurable` that it may be summed (numbers) or
    counted distinct (any). `personal` marks an exact personal attribute (a birth date,
    where someone comes from, the day they moved in): counted per grid, it tells whether a
    named person lives there, so only users who may see personal data may filter on it
    (reports.definitions.validate(definition, user)); whole years of age, sex, tags and
    registration stay usable by every definer, as forms ask them."""

    name: str
    label: str
    kind: str
    path: str
    choices: Callable[[], list[tuple[str, str]]] | None = None
    parent: str = "parent"
    code: str = "code"
    depth: int = 3
    levels: Callable[[], dict[str, list[str]]] | None = None
    level_path: str = ""
    lookup: Callable[[str, object, dt.date], Q] | None = None
    flow: bool = False
    measurable: bool = False
    personal: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Subject:
    """What a definition counts: `rows(context, stock)` → queryset annotated with grid_on.
    `stock` is False when the subject has no meaning as a stock (a visit happens; it does
    not exist on a day): such a subject must be counted within a date field."""

    key: str
    label: str
    unit: str  # the unit of a count of it: 人, 户, 栋, 家, 件 …
    rows: Callable[[object, bool], QuerySet]
    fields: dict[str, Field] = field(default_factory=dict)
    stock: bool = True
    stock_means: str = ""  # how a stock is read, for people ("open at the day's end")

    def field(self, name: str) -> Field | None:
        return self.fields.get(name)


_registry: dict[str, Subject] = {}


def register(
    key: str,
    label: str,
    unit: str,
    rows: Callable[[object, bool], QuerySet],
    fields: list[Field],
    **options,
) -> Subject:
    if key in _registry:
        raise ValueError(f"subject {key!r} is registered twice")
    subject = Subject(key, label, unit, rows, {f.name: f for f in fields}, **options)
    _registry[key] = subject
    return subject


def get(key: str) -> Subject | None:
    return _registry.get(key)


def all_subjects() -> list[Subject]:
    return list(_registry.values())


def enum_choices(enum) -> Callable[[], list[tuple[str, str]]]:
    """A TextChoices as a field's codes and names, read when asked (in the language then)."""
    return lambda: [(code, str(name)) for code, name in enum.choices]


def in_grids(rows: QuerySet, grid_ids) -> QuerySet:
    """Rows of these grids only, by the annotated grid_on."""
    return rows.filter(grid_on__in=[pk for pk in grid_ids if pk is not None])


def age_lookup(birth_path: str) -> Callable[[str, object, dt.date], Q]:
    """Whole years of age on a day, as a range of birth dates: index-friendly and exact on
    birthdays (someone born on 29 February comes of age on 1 March in other years)."""

    def born_by(on: dt.date, years: int) -> dt.date:
        # The latest birth date of someone at least `years` old on `on`.
        try:
            return on.replace(year=on.year - years)
        except ValueError:  # 29 February in a year that has none
            return on.replace(year=on.year - years, day=28)

    def at_least(years, on) -> Q:
        return Q(**{f"{birth_path}__lte": born_by(on, int(years))})

    def below(years, on) -> Q:
        return Q(**{f"{birth_path}__gt": born_by(on, int(years))})

    def lookup(op: str, value, on: dt.date) -> Q:
        if op == ">=":
            return at_least(value, on)
        if op == ">":
            return at_least(int(value) + 1, on)
        if op == "<":
            return below(value, on)
        if op == "<=":
            return below(int(value) + 1, on)
        if op in ("=", "!="):
            exact = at_least(value, on) & below(int(value) + 1, on)
            return exact if op == "=" else ~exact
        if op == "between":
            low, high = value
            return at_least(low, on) & below(int(high) + 1, on)
        if op in ("in", "not_in"):
            either = Q()
            for years in value:
                either |= at_least(years, on) & below(int(years) + 1, on)
            return either if op == "in" else ~either
        if op == "is_null":
            return Q(**{f"{birth_path}__isnull": True})
        if op == "not_null":
            return Q(**{f"{birth_path}__isnull": False})
        raise ValueError(op)

    return lookup
