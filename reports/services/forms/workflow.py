"""Who may bring a form in, and the proposal: every column matched against the active
indicators and stored as a FormImport for the user to review."""

from __future__ import annotations

from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Department, Role
from grids.problems import Problem, ProblemsError
from reports.models import FormImport, Indicator
from reports.services.forms import computing, proposing, still_typed
from reports.services.forms.guessing import _code_stem, _unique_code, new_indicator_spec
from reports.services.forms.parsing import parse_form


class FormRefused(ProblemsError):
    """An import step that may not be taken: 403 not your department, 409 already done."""

    def __init__(self, code: str, message: str, *, status: int, field: str | None = None):
        super().__init__([Problem(code, message, field=field)])
        self.status_code = status


# ---- who may --------------------------------------------------------------------------------


def may_import(user, department: Department) -> bool:
    """A department brings in its own forms; the district centre and administrators any
    department's of their district."""
    if not (user.is_authenticated and user.is_active):
        return False
    if scoping.sees_everything(user):
        return True
    if user.role == Role.DEPARTMENT:
        return user.department_id == department.pk
    if user.role == Role.DISTRICT_CENTRE:
        return scoping.user_district(user) == department.district_id
    return False


def _check_may(user, department: Department) -> None:
    if not may_import(user, department):
        raise FormRefused(
            "forbidden",
            _("you may not bring in forms for %(department)s") % {"department": department.name},
            status=403,
            field="department",
        )


def propose(user, department: Department, data: bytes, filename: str) -> FormImport:
    """Read a department's form and store the proposed mapping of each column, for the user
    to review and `confirm`.

    Each proposal (FormImport.proposals, in sheet order) is::

        {"column": 4, "cell": "E4", "heading": "人口情况/60岁以上老人数", "text": ..., "name": ...,
         "unit": "人", "samples": [...], "value_type": "integer",
         "match": "60岁以上老人数", "part_of": null (the column a "其中：" item is part of),
         "status": "matched" | "suggested" | "defined" | "new",
         "candidates": [{"code", "name", "unit", "score", "reason", "via"}, ...],
         "choice": {"indicator": "POP_ELDERLY"} | {"definition": {...}, "new": {spec}}
                   | {"new": {spec}},
         "new": {spec}, "definition": {...} (when read as one),
         "description": "…" (the definition in words, when read as one),
         "figure": {"value", "period", "on", "region"} (added by `add_figures`),
         "duplicate_of": 3 (only when another column has the same match)}

    A matched column's choice is its indicator (one defined as the heading reads first,
    then the best named); a defined column's a new indicator defined as data
    (reports.services.forms.proposing); a suggested or new column's a new indicator typed
    at the form's row level (the user picks a candidate instead if it is the same item),
    its level and period settable before confirming. FormImport.layout
    is the department's layout with "form": {title, period_type, row_level, sheet, subtitle,
    warnings}, what was guessed for the template.

    Refused (nothing written): 403 not the user's department, 400 not_xlsx / too_large /
    no_header.
    """
    _check_may(user, department)
    parsed = parse_form(data, filename)
    catalogue = proposing.Catalogue()
    taken = set(Indicator.objects.values_list("code", flat=True))
    stem = _code_stem(department)
    proposals = []
    readings: dict[int, dict | None] = {}
    for column in parsed.columns:
        spec = new_indicator_spec(
            column,
            code=_unique_code(f"{stem}_{column.col + 1}", taken),
            level=parsed.row_level,
            period_type=parsed.period_type,
        )
        proposal = proposing.propose_column(
            column, catalogue, spec, parent=readings.get(column.part_of)
        )
        readings[column.col] = proposal.get("definition")
        proposals.append(column.as_dict() | proposal | {"new": spec})
    _flag_duplicates(proposals)
    proposing.describe(proposals)
    for proposal in proposals:
        for candidate in proposal["candidates"]:
            indicator = catalogue.by_code.get(candidate["code"])
            if indicator is not None:
                candidate |= {
                    "source": indicator.source,
                    "level": indicator.level,
                    "asked": catalogue.uses.get(indicator.code, 0),
                }
    counts = still_typed.unit_counts(department)
    typing = still_typed.preview(proposals, parsed.row_level, counts, catalogue)
    layout = parsed.layout | {
        "form": {
            "title": parsed.title,
            "period_type": parsed.period_type,
            "row_level": parsed.row_level,
            "sheet": parsed.sheet,
            "subtitle": parsed.subtitle,
            "warnings": [w.as_dict() for w in parsed.warnings],
            "typing": typing,
        }
    }
    return FormImport.objects.create(
        department=department,
        filename=filename[:200],
        layout=layout,
        proposals=proposals,
        by=user,
    )


def _flag_duplicates(proposals: list[dict]) -> None:
    """Two columns matched to one indicator: only the better stays matched, the other is
    a suggestion to decide on (a template has each indicator once)."""
    best: dict[str, dict] = {}
    for proposal in proposals:
        code = proposal["choice"].get("indicator") or computing.signature(
            proposal["choice"].get("definition")
        )
        if code is None:
            continue
        other = best.get(code)
        if other is None:
            best[code] = proposal
            continue
        loser, winner = sorted((other, proposal), key=lambda p: (_top(p), -p["column"]))
        if loser is other:
            best[code] = proposal
        loser["status"] = "suggested"
        loser["choice"] = {"new": loser["new"]}
        loser["duplicate_of"] = winner["column"]


def _top(proposal: dict) -> float:
    return proposal["candidates"][0]["score"] if proposal["candidates"] else 0.0


def add_figures(user, form_import: FormImport) -> FormImport:
    """The district's current figure beside each column the platform computes (a derived
    indicator, a definition read from the heading), saved into the proposals. Apart from
    `propose` because it counts the whole district (seconds at full scale): the page asks
    for it once the mapping is shown."""
    _check_may(user, form_import.department)
    proposals = list(form_import.proposals)
    proposing.figures(proposals, form_import.department, proposing.Catalogue())
    form_import.proposals = proposals
    form_import.save(update_fields=["proposals"])
    return form_import
