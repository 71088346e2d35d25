"""Confirming an import: the user's decision per column checked, the new indicators really
needed created and the department's template made, in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from grids.problems import Problem, ProblemsError
from reports.models import (
    Aggregation,
    FormImport,
    Indicator,
    IndicatorGroup,
    ReportTemplate,
    Source,
    TemplateColumn,
    TimeAggregation,
    UnitLevel,
    ValueType,
)
from reports.periods import PeriodType
from reports.services import levels, matching
from reports.services.forms import computing
from reports.services.forms.checks import _check_template_fields, _validate_spec
from reports.services.forms.workflow import FormRefused, _check_may
from reports.services.indicators import ensure_groups

# ---- confirm --------------------------------------------------------------------------------


def confirm(
    user,
    form_import: FormImport,
    decisions: list[dict],
    *,
    title: str,
    code: str,
    period_type: str | None = None,
    row_level: str | None = None,
    due_day: int = 5,
) -> ReportTemplate:
    """Make the department's template from a proposed import, in one transaction.

    `decisions` has one entry per proposed column (FormImport.proposals[i]["column"]):
    ``{"column": 4, "indicator": "POP_ELDERLY"}`` (an existing, active indicator),
    ``{"column": 7, "new": {code, name, unit, value_type, group, aggregation,
    time_aggregation?, level?, period_type?, aliases?, choices?}}`` (a new collected
    indicator; a proposal's "new" is a valid start) or ``{"column": 2, "skip": true}``
    (the column stays in the layout, blank, and is not collected). `period_type` and
    `row_level` default to what was guessed from the form.

    The template belongs to the import's department; its columns are in sheet order with
    the department's own headings, and its layout maps each to its sheet column.

    Refused (nothing written): 403 not the user's department, 409 already confirmed, 400
    with a problem per wrong decision (unknown_indicator, retired_indicator,
    duplicate_indicator, undecided, invalid spec fields…) naming the column.
    """
    _check_may(user, form_import.department)
    guessed = form_import.layout.get("form", {})
    period_type = period_type or guessed.get("period_type") or PeriodType.MONTH
    row_level = row_level or guessed.get("row_level") or UnitLevel.GRID
    with transaction.atomic():
        locked = FormImport.objects.select_for_update().get(pk=form_import.pk)
        if locked.status == FormImport.Status.CONFIRMED:
            raise FormRefused(
                "already_confirmed",
                _("%(file)s was confirmed already as template %(template)s")
                % {
                    "file": locked.filename,
                    "template": locked.template.code if locked.template else _("(deleted)"),
                },
                status=409,
            )
        groups = ensure_groups()
        problems = _check_template_fields(title, code, period_type, row_level, due_day)
        plan, more = _plan_columns(
            locked,
            decisions,
            groups=groups,
            period_type=period_type,
            row_level=row_level,
            user=user,
        )
        problems += more
        if not problems and not plan:
            problems.append(
                Problem(
                    "no_columns",
                    _("every column is skipped: nothing to report"),
                    field="decisions",
                )
            )
        if problems:
            raise ProblemsError(problems)
        template = ReportTemplate.objects.create(
            owner=locked.department,
            code=code,
            title=title.strip(),
            row_level=row_level,
            period_type=period_type,
            due_day=due_day,
            layout={},
            created_by=user if user.is_authenticated else None,
        )
        placement = {}
        reused = []
        for order, (proposal, indicator, spec) in enumerate(plan, 1):
            if indicator is None:
                indicator = _create_indicator(
                    spec, groups, row_level=row_level, period_type=period_type
                )
            else:
                learn_alias(indicator, proposal)
                reused.append(indicator)
            TemplateColumn.objects.create(
                template=template,
                order=order,
                indicator=indicator,
                heading=proposal["heading"][:200],
            )
            placement[str(order)] = proposal["column"]
        template.layout = {k: v for k, v in locked.layout.items() if k != "form"} | {
            "columns": placement
        }
        template.save(update_fields=["layout"])
        # An existing item nobody has typed yet is asked at the level this form's rows need,
        # not per grid when the department reads communities (issue #17: collection level).
        # A new item keeps the level the person set on the page.
        levels.settle(reused, template.owner.district_id)
        locked.status = FormImport.Status.CONFIRMED
        locked.template = template
        locked.save(update_fields=["status", "template"])
    form_import.refresh_from_db()
    return template


def _plan_columns(
    form_import: FormImport,
    decisions: list[dict],
    *,
    groups: dict,
    period_type: str,
    row_level: str,
    user=None,
) -> tuple[list[tuple[dict, Indicator | None, dict | None]], list[Problem]]:
    """(proposal, existing indicator or None, new spec or None) per kept column in sheet
    order, and the problems of the decisions."""
    proposals = {p["column"]: p for p in form_import.proposals}
    problems: list[Problem] = []
    by_column: dict[int, dict] = {}
    for i, decision in enumerate(decisions if isinstance(decisions, list) else []):
        column = decision.get("column") if isinstance(decision, dict) else None
        if column not in proposals:
            problems.append(
                Problem(
                    "unknown_column",
                    _("decision %(number)s names column '%(column)s', which the form does not have")
                    % {"number": i + 1, "column": column},
                    field=f"decisions.{i}.column",
                )
            )
        elif column in by_column:
            problems.append(
                Problem(
                    "decided_twice",
                    _("%(column)s is decided twice") % {"column": _label(proposals[column])},
                    field=f"decisions.{i}.column",
                )
            )
        else:
            by_column[column] = decision
    if not isinstance(decisions, list):
        problems.append(
            Problem("invalid_decisions", _("decisions must be a list"), field="decisions")
        )
    codes = {d.get("indicator") for d in by_column.values() if d.get("indicator")}
    existing = {
        i.code: i
        for i in Indicator.objects.filter(code__in=[c for c in codes if isinstance(c, str)])
    }
    taken = set(Indicator.objects.values_list("code", flat=True))
    defined = Indicator.objects.active().exclude(definition=None)
    used: dict[str, int] = {}
    plan = []
    for column, proposal in sorted(proposals.items()):
        where = f"columns.{column}"
        label = _label(proposal)
        decision = by_column.get(column)
        if decision is None:
            problems.append(
                Problem(
                    "undecided",
                    _("%(column)s: choose an indicator, a new one or skip") % {"column": label},
                    field=where,
                )
            )
            continue
        if decision.get("definition") is not None and not decision.get("skip"):
            # Both an indicator and a definition: refused below, one of them is meant.
            chosen = ["indicator", "definition"] if decision.get("indicator") else ["definition"]
        else:
            chosen = [k for k in ("indicator", "new", "skip") if decision.get(k)]
        if len(chosen) != 1:
            problems.append(
                Problem(
                    "invalid_decision",
                    _("%(column)s: give exactly one of indicator, new or skip") % {"column": label},
                    field=where,
                )
            )
            continue
        if chosen == ["skip"]:
            continue
        if chosen == ["indicator"]:
            code = decision["indicator"]
            indicator = existing.get(code)
            if indicator is None:
                problems.append(
                    Problem(
                        "unknown_indicator",
                        _("%(column)s: there is no indicator '%(code)s'")
                        % {"column": label, "code": code},
                        field=where,
                    )
                )
                continue
            if indicator.retired():
                problems.append(
                    Problem(
                        "retired_indicator",
                        _("%(column)s: %(code)s (%(name)s) was retired on %(date)s")
                        % {
                            "column": label,
                            "code": code,
                            "name": indicator.name,
                            "date": indicator.retired_on,
                        },
                        field=where,
                    )
                )
                continue
            if code in used:
                problems.append(
                    Problem(
                        "duplicate_indicator",
                        _("%(column)s: %(code)s is already %(other)s")
                        % {"column": label, "code": code, "other": _label(proposals[used[code]])},
                        field=where,
                    )
                )
                continue
            used[code] = column
            plan.append((proposal, indicator, None))
            continue
        if chosen == ["definition"]:
            found, more = _plan_definition(
                proposal,
                decision,
                where,
                label,
                groups=groups,
                taken=taken,
                defined=defined,
                period_type=period_type,
                user=user,
            )
            problems += more
            indicator, spec = found
            if indicator is not None and indicator.code in used:
                problems.append(
                    Problem(
                        "duplicate_indicator",
                        _("%(column)s: %(code)s is already %(other)s")
                        % {
                            "column": label,
                            "code": indicator.code,
                            "other": _label(proposals[used[indicator.code]]),
                        },
                        field=where,
                    )
                )
                continue
            if indicator is not None:
                used[indicator.code] = column
            if not more:
                plan.append((proposal, indicator, spec))
            continue
        spec = decision["new"]
        if not isinstance(spec, dict):
            problems.append(
                Problem(
                    "invalid_decision",
                    _("%(column)s: new must be an indicator's fields") % {"column": label},
                    field=where,
                )
            )
            continue
        spec = {"level": row_level, "period_type": period_type} | spec
        more = _validate_spec(
            spec, where, label, groups=groups, taken=taken, period_type=period_type
        )
        problems += more
        if not more:
            plan.append((proposal, None, spec))
    return plan, problems


def _label(proposal: dict) -> str:
    return _("column %(cell)s (%(heading)s)") % {
        "cell": proposal["cell"],
        "heading": proposal["heading"],
    }


def _plan_definition(
    proposal: dict,
    decision: dict,
    where: str,
    label: str,
    *,
    groups,
    taken,
    defined,
    period_type,
    user=None,
) -> tuple[tuple[Indicator | None, dict | None], list[Problem]]:
    """A column to be computed by a definition: the active indicator defined so already,
    or a new derived indicator's spec (the proposal's, with the user's changes)."""
    from reports import definitions

    definition = decision["definition"]
    if not isinstance(definition, dict):
        message = _("%(column)s: a definition must be an object") % {"column": label}
        return (None, None), [Problem("invalid_definition", message, field=f"{where}.definition")]
    problems = []
    # The confirming person's rights: a definer who may not see personal data may not
    # count by a personal field through a form either.
    for problem in definitions.validate(definition, user):
        problems.append(
            Problem(
                problem.code,
                _("%(column)s: %(message)s") % {"column": label, "message": problem.message},
                field=f"{where}.definition.{problem.field}" if problem.field else where,
            )
        )
    if problems:
        return (None, None), problems
    key = computing.signature(definition)
    for indicator in defined:
        if computing.signature(indicator.definition) == key:
            return (indicator, None), []
    overrides = decision.get("new") if isinstance(decision.get("new"), dict) else {}
    spec = (proposal.get("new") or {}) | overrides | {"definition": definition}
    spec.setdefault("unit", computing.unit_of(definition))
    # What the definition counts decides these, whatever the collected spec it started
    # from said: a stock is read at the period's end, a flow adds up over the periods.
    stock = definition.get("time", "stock") == "stock"
    spec["time_aggregation"] = TimeAggregation.LATEST if stock else TimeAggregation.SUM
    spec["description"] = spec.get("description") or definitions.describe(definition)
    spec["value_type"] = spec.get("value_type") or ValueType.INTEGER
    spec["aggregation"] = spec.get("aggregation") or Aggregation.SUM
    more = _validate_spec(spec, where, label, groups=groups, taken=taken, period_type=period_type)
    return (None, spec), more


def learn_alias(indicator: Indicator, proposal: dict) -> None:
    """The department's wording of an item it confirmed as `indicator` becomes one of its
    aliases, so that the next form worded so merges into it. Not when the wording is its
    name or an alias already, nor when it is another active indicator's name or alias (in
    canonical form): an alias must not join two items, nor make a tie between them."""
    wording = str(proposal.get("name") or "").strip()
    if len(wording) < 2 or len(wording) > 120:
        return
    mine = matching.canonical(wording).text
    others = Indicator.objects.active().exclude(pk=indicator.pk).values_list("name", "aliases")
    for name, aliases in others:
        if any(matching.canonical(n).text == mine for n in [name, *(aliases or [])]):
            return
    # Locked and read again: two confirms learning at once must not lose one's alias.
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    known = {matching.canonical(n).text for n in [locked.name, *(locked.aliases or [])]}
    if mine in known:
        indicator.aliases = locked.aliases
        return
    locked.aliases = [*(locked.aliases or []), wording]
    Indicator.objects.filter(pk=locked.pk).update(aliases=locked.aliases)
    indicator.aliases = locked.aliases


def _create_indicator(
    spec: dict, groups: dict[str, IndicatorGroup], *, row_level: str, period_type: str
) -> Indicator:
    return Indicator.objects.create(
        code=spec["code"].strip(),
        name=spec["name"].strip(),
        aliases=list(spec.get("aliases") or []),
        unit=(spec.get("unit") or "").strip(),
        group=groups[spec["group"]],
        value_type=spec["value_type"],
        choices=list(spec.get("choices") or []),
        aggregation=spec["aggregation"],
        time_aggregation=spec.get("time_aggregation") or TimeAggregation.LATEST,
        level=spec.get("level") or row_level,
        period_type=spec.get("period_type") or period_type,
        source=Source.DERIVED if spec.get("definition") else Source.COLLECTED,
        definition=spec.get("definition"),
        description=str(spec.get("description") or ""),
    )
