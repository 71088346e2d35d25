"""What each column of a department's form is proposed to be, in order of preference:

1. an active indicator whose definition counts exactly what the heading describes (the
   heading read by `computing.read`, compared by meaning with `computing.signature`);
2. an indicator the heading names (reports.services.matching: wording, numbers, units;
   ties told apart by meaning and by how many templates use each);
3. a new indicator *defined as data* from the heading's reading, so nobody types it;
4. a new indicator typed by the form's row level (grid, community or street).

With the district's current figure beside each computed proposal, so the department sees
what the platform already knows before it publishes the template."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from grids.models import Department
from reports import derived
from reports.models import Indicator, ReportTemplate, Source, ValueType
from reports.periods import Period, PeriodType
from reports.services import matching
from reports.services.forms import computing
from reports.services.forms.sheet import FormColumn

# Value types a definition can fill: counts and sums.
COUNTABLE = (ValueType.INTEGER, ValueType.DECIMAL)
# A "其中：" item matched by name only when named exactly so.
PART_MATCHED = 0.95


class Catalogue:
    """The active indicators as the proposal needs them: for matching by name, by
    definition, and how many active templates use each."""

    def __init__(self):
        active = ReportTemplate.objects.active().values("pk")
        rows = Indicator.objects.active().annotate(
            uses=Count("columns__template", filter=Q(columns__template__in=active), distinct=True)
        )
        self.indicators = list(rows)
        self.by_code = {i.code: i for i in self.indicators}
        self.uses = {i.code: i.uses for i in self.indicators}
        self.by_signature: dict[str, list[Indicator]] = {}
        for indicator in self.indicators:
            key = computing.signature(indicator.definition or equivalent(indicator.derivation))
            if key:
                self.by_signature.setdefault(key, []).append(indicator)
        for same in self.by_signature.values():
            same.sort(key=lambda i: (-i.uses, len(i.name)))

    def defined_as(self, definition: dict | None) -> Indicator | None:
        same = self.by_signature.get(computing.signature(definition) or "")
        return same[0] if same else None


# Kinds of unit a count of people, households, buildings, units or incidents is in.
COUNTED_KINDS = {
    "person",
    "household",
    "organisation",
    "place",
    "thing",
    "building",
    "dwelling",
    "case",
    "item",
}


# The kinds of unit a count of each subject may be written in (人次 is no count of people,
# 套 no count of buildings).
KINDS_OF = {
    "buildings": {"building", "thing", "place"},
    "units": {"organisation", "thing", "household", "place", "item"},
    "incidents": {"case", "place", "thing", "item"},
    "grids": {"thing", "place", "item"},
    "grid_workers": {"person"},
}


def _counts_in(column_unit: str, definition: dict) -> bool:
    """Whether a column in `column_unit` can hold the count the definition makes: people
    in 人 (not 户, not 人次), households in 户, other things in their count units."""
    unit = matching.canonical_unit(column_unit)
    if not unit:
        return True
    kind = matching.UNITS[unit][0]
    if kind not in COUNTED_KINDS:
        return False
    measure = definition.get("measure")
    if isinstance(measure, dict) and "sum" in measure:
        return kind == "person"  # a sum of employees
    if definition["subject"] == "residents":
        wanted = "household" if computing.unit_of(definition) == "户" else "person"
        return kind == wanted
    return kind in KINDS_OF.get(definition["subject"], COUNTED_KINDS)


def equivalent(derivation: str) -> dict | None:
    """The definition meaning what a computation registered in code computes, for the
    foundation's own (reports.grid_indicators): residents, households, residents by tag,
    grid workers. A heading read as one of these is that indicator."""

    def count(subject: str, *where) -> dict:
        return {"subject": subject, "where": list(where), "measure": "count", "time": "stock"}

    if derivation in ("residents", "households", "grid_workers"):
        return count(derivation)
    if derivation.startswith("residents_"):
        tag = derivation.removeprefix("residents_")
        return count("residents", {"field": "tags", "op": "has", "value": tag})
    return None


def reading(column: FormColumn) -> dict | None:
    """The heading read as a definition, if the column holds numbers in a unit a count of
    it is in."""
    if column.value_type not in COUNTABLE:
        return None
    for text in dict.fromkeys([column.name, column.match.replace("/", " ")]):
        definition = computing.read(text, column.unit)
        if definition is not None and _counts_in(column.unit, definition):
            return definition
    return None


def part_reading(column: FormColumn, parent: dict | None) -> dict | None:
    """A "其中：" item's definition: its own reading narrowing its item's. Without the
    item's, only a reading that already names the item (a qualifier made whole, "80岁以上"
    of 老人数 read as 80岁以上老人数) stands: "其中：残疾人" alone is not every disabled
    person."""
    own = reading(column)
    if parent is not None:
        return computing.narrowed(parent, own)
    return own if column.qualified else None


def propose_column(
    column: FormColumn, catalogue: Catalogue, spec: dict, *, parent: dict | None = None
) -> dict:
    """The proposal for one column: status, candidates, choice (see workflow.propose).
    `parent` is the definition read for the item a "其中：" column is part of."""
    candidates = matching.rank(
        column.match or column.heading, column.unit, catalogue.indicators, uses=catalogue.uses
    )
    state = matching.status(candidates)
    if column.part_of is not None:
        definition = part_reading(column, parent)
        # A part is narrower than what its words alone name: only its very name matches.
        if candidates and (candidates[0].score < PART_MATCHED or parent is not None):
            state = "suggested" if state == "matched" else state
    else:
        definition = reading(column)
    same = catalogue.defined_as(definition)
    found = [c.as_dict() for c in candidates]
    if same is not None:
        found = [c for c in found if c["code"] != same.code]
        found.insert(
            0,
            {
                "code": same.code,
                "name": same.name,
                "unit": same.unit,
                "score": 1.0,
                "reason": "counts what the heading describes",
                "via": same.name,
            },
        )
        return {
            "status": "matched",
            "candidates": found[:5],
            "choice": {"indicator": same.code},
            "definition": definition,
        }
    if state == "matched":
        return {
            "status": state,
            "candidates": found,
            "choice": {"indicator": found[0]["code"]},
            "definition": definition,
        }
    if definition is not None:
        defined = spec | {
            "unit": spec.get("unit") or computing.unit_of(definition),
            "time_aggregation": "latest" if definition["time"] == "stock" else "sum",
            "aggregation": "sum",
        }
        return {
            "status": "defined",
            "candidates": found,
            "choice": {"definition": definition, "new": defined},
            "definition": definition,
        }
    return {"status": state, "candidates": found, "choice": {"new": spec}, "definition": None}


def describe(proposals: list[dict]) -> None:
    """Each reading in words (reports.definitions.describe), for the page."""
    from reports import definitions

    for proposal in proposals:
        if proposal.get("definition") is not None:
            proposal["description"] = definitions.describe(proposal["definition"])


# ---- the district's current figure ----------------------------------------------------------


def figures(proposals: list[dict], department: Department, catalogue: Catalogue) -> None:
    """Adds "figure" (the district's value this month) to each proposal whose choice the
    platform computes: a derived indicator or a definition. A computation that cannot run
    here (its app not installed) leaves "figure_error" with the reason instead."""
    from reports import definitions
    from reports.services.derive import grid_values
    from reports.services.values import tree_under

    today = timezone.localdate()
    period = Period.containing(today, PeriodType.MONTH)
    tree = tree_under(department.district, today)
    grid_ids = list(tree.grid_ids)
    context = derived.Context(period, grid_ids)
    for proposal in proposals:
        choice = proposal["choice"]
        indicator = catalogue.by_code.get(choice.get("indicator", ""))
        try:
            if choice.get("definition") is not None:
                values = definitions.compute(choice["definition"], context)
            elif indicator is not None and indicator.source == Source.DERIVED:
                values = grid_values(indicator, context)
            else:
                continue
        except (LookupError, definitions.DefinitionError) as error:
            proposal["figure_error"] = str(error)
            continue
        total = sum((Decimal(str(v)) for v in values.values() if v is not None), Decimal(0))
        proposal["figure"] = {
            "value": float(total) if total != total.to_integral_value() else int(total),
            "period": period.key,
            "on": min(period.last_day, today).isoformat(),
            "region": department.district.name,
        }
