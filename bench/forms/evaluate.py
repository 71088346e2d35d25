"""The forms set's evaluation: what the merge proposes for each form, scored against the
answer keys (accuracy), and the burden once the forms are templates.

    .venv/bin/python -m bench.forms.evaluate tune            # needs a database with a demo
    .venv/bin/python -m bench.forms.evaluate heldout         # figures only, no headings

For one half, in one transaction that is rolled back (the database is left as it was):

1. the demo catalogue is installed afresh (reports.services.demo.install_catalogue, plus
   the seeded definitions), as a district starts;
2. each form in turn is proposed (reports.services.forms.propose) by an administrator for
   its department, and each column's proposal scored against the key (bench.forms.score);
   then the form is confirmed with the key's answers, as the department would after
   fixing the proposals (so later forms meet the items earlier ones created);
3. burden, ideal: manual fields per community per month over the 12 months of the year,
   before (every cell of the forms falling due) and after (each collected item still due
   once), from reports.services.burden on these templates only;
4. burden, as proposed: the same with every form confirmed exactly as proposed.

Refusals: a sheet the key says no person could read must be refused with a named problem;
a readable form refused is counted apart (it must never happen).

The held-out half's details (headings, what was proposed) go to
bench/forms/heldout/last_errors.json only, a file under the folder the matcher's author
does not read; its results file and output carry counts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from bench.forms import score

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
HALVES = ("tune", "heldout")
YEAR = 2026
TEMPLATE_PREFIX = "forms-"


class Rollback(Exception):
    """Raised at the end of a pass to undo everything it wrote."""

    def __init__(self, result):
        super().__init__("rolled back")
        self.result = result


def load(half: str) -> list[tuple[Path, dict]]:
    folder = HERE / half
    return [
        (path, json.loads(path.with_suffix("").with_suffix(".key.json").read_text("utf-8")))
        for path in sorted(folder.glob("*.xlsx"))
    ]


def _setup():
    """The demo district with the demo catalogue installed afresh, an administrator, and
    the set's departments."""
    from django.utils import timezone

    from grids.models import Region, Role, User
    from reports import catalogue
    from reports.models import Indicator
    from reports.services import indicators
    from reports.services.demo import install_catalogue

    district = Region.objects.filter(level="district", valid_to__isnull=True).order_by("code")
    district = district.first()
    if district is None:
        raise SystemExit("no district in this database: build the demo first (manage.py demo)")
    # The seeded definitions first, as a migrated database has them: the demo catalogue's
    # templates ask for some of them.
    indicators.sync_defined()
    install_catalogue(district)
    # Collected items an older demo catalogue left in this database (and nothing the current
    # one has) are retired for the run, so the forms meet the catalogue a district starts with.
    stale = Indicator.objects.collected().exclude(code__in=[s.code for s in catalogue.INDICATORS])
    stale.update(retired_on=timezone.localdate() - dt.timedelta(days=1))
    user = User.objects.create(username="forms-set-evaluator", role=Role.ADMINISTRATOR)
    return district, user


def _department(key: dict, district):
    from grids.models import Department

    department, _ = Department.objects.get_or_create(
        code=key["department"]["code"],
        defaults={"name": key["department"]["name"], "district": district},
    )
    return department


def definition_of(code: str) -> dict | None:
    from reports.models import Indicator

    return Indicator.objects.filter(code=code).values_list("definition", flat=True).first()


def _defined_indicator(code: str, name: str, definition: dict, unit: str):
    """A derived indicator holding `definition` (the one an accepted proposal creates)."""
    from reports.models import Indicator, Source
    from reports.services.indicators import ensure_groups

    existing = _with_meaning(definition)
    if existing:
        return existing
    groups = ensure_groups()
    flow = score.meaning(definition)[3][0] == "within"
    return Indicator.objects.create(
        code=code,
        name=name[:120],
        unit=unit[:20],
        group=groups["governance" if definition.get("subject") == "incidents" else "population"],
        value_type="integer",
        aggregation="sum",
        time_aggregation="sum" if flow else "latest",
        period_type="month",
        level="grid",
        source=Source.DERIVED,
        definition=definition,
    ).code


def _with_meaning(definition: dict) -> str | None:
    from reports.models import Indicator

    wanted = score.meaning(definition)
    for code, other in (
        Indicator.objects.active()
        .filter(definition__isnull=False)
        .values_list("code", "definition")
    ):
        if score.meaning(other) == wanted:
            return code
    return None


def _code(text: str) -> str:
    return "FS_" + "".join(ch if ch.isalnum() else "_" for ch in text.upper())[:36]


def _new_spec(proposal: dict, *, code: str, level: str | None, period_type: str | None) -> dict:
    spec = dict(proposal.get("new") or {})
    spec.setdefault("name", proposal.get("name") or proposal.get("heading", "")[:120])
    spec.setdefault("unit", proposal.get("unit", ""))
    spec.setdefault("value_type", proposal.get("value_type") or "integer")
    spec.setdefault("group", "governance")
    spec.setdefault("aggregation", "sum")
    spec.pop("definition", None)
    spec["code"] = code
    if level:
        spec["level"] = level
    if period_type:
        spec["period_type"] = period_type
    return spec


def key_decisions(key: dict, proposals: list[dict], created: dict[str, str]) -> list[dict]:
    """The decisions of a department that corrected every proposal to the key."""
    from reports.models import Indicator

    by_letter = {score.letter_of(p["cell"]): p for p in proposals}
    decisions = []
    for letter, proposal in by_letter.items():
        column = key["columns"].get(letter)
        decision = {"column": proposal["column"]}
        if column is None:
            decisions.append(decision | {"skip": True})
            continue
        answer = column["answer"]
        if "new" in answer:
            item = answer["new"].get("item")
            if item and item in created:
                decisions.append(decision | {"indicator": created[item]})
                continue
            code = _code(item or f"{key['form']}_{letter}")
            spec = _new_spec(
                proposal, code=code, level=answer["new"]["level"], period_type=key["period_type"]
            )
            if item:
                created[item] = code
            decisions.append(decision | {"new": spec})
            continue
        # The key's own answer first: its indicator, else its definition (an existing
        # indicator holding it, or a new defined one); `also` only when the key's indicator
        # is missing from this catalogue.
        chosen = None
        options = [answer] if "definition" in answer else [answer, *column.get("also", [])]
        for option in options:
            code = option.get("indicator")
            if code and Indicator.objects.active().filter(code=code).exists():
                chosen = code
                break
        if chosen is None:
            definition = answer.get("definition") or next(
                o["definition"] for o in column["also"] if "definition" in o
            )
            chosen = _defined_indicator(
                _code(f"{key['form']}_{letter}"), proposal["name"], definition, column["unit"]
            )
        decisions.append(decision | {"indicator": chosen})
    return decisions


def proposed_decisions(key: dict, proposals: list[dict]) -> list[dict]:
    """The decisions of a department that took every proposal as it came."""
    decisions = []
    for proposal in proposals:
        got = score.proposed(proposal)
        decision = {"column": proposal["column"]}
        letter = score.letter_of(proposal["cell"])
        if "indicator" in got:
            decisions.append(decision | {"indicator": got["indicator"]})
        elif "definition" in got:
            code = _defined_indicator(
                _code(f"P_{key['form']}_{letter}"),
                proposal["name"],
                got["definition"],
                proposal.get("unit", ""),
            )
            decisions.append(decision | {"indicator": code})
        elif "new" in got:
            decisions.append(decision | {"new": got["new"]})
        else:
            decisions.append(decision | {"skip": True})
    return _one_each(decisions)


def _one_each(decisions: list[dict]) -> list[dict]:
    # A template asks each indicator once; two columns proposed as one item keep the first.
    seen = set()
    for decision in decisions:
        code = decision.get("indicator")
        if code is None:
            continue
        if code in seen:
            decision.pop("indicator")
            decision["skip"] = True
        seen.add(code)
    return decisions


def run_pass(half: str, *, as_proposed: bool) -> dict:
    from django.db import transaction

    from grids.problems import ProblemsError
    from reports.services import forms

    try:
        with transaction.atomic():
            district, user = _setup()
            created: dict[str, str] = {}
            scored, refusals, failures = [], [], []
            for path, key in load(half):
                department = _department(key, district)
                try:
                    form_import = forms.propose(user, department, path.read_bytes(), path.name)
                except ProblemsError as refused:
                    refusals.append(_refusal(key, refused))
                    continue
                if "refuse" in key:
                    refusals.append(_refusal(key, None))
                    continue
                proposals = form_import.proposals
                scored.append(
                    score.score_form(
                        key, proposals, definition_of=definition_of, created=dict(created)
                    )
                )
                if as_proposed:
                    decisions = proposed_decisions(key, proposals)
                    options = {}
                else:
                    decisions = key_decisions(key, proposals, created)
                    options = {"period_type": key["period_type"], "row_level": key["row_level"]}
                try:
                    forms.confirm(
                        user,
                        form_import,
                        decisions,
                        title=key["title"],
                        code=f"{TEMPLATE_PREFIX}{key['form']}",
                        **options,
                    )
                except ProblemsError as error:
                    failures.append(
                        {"form": key["form"], "problems": [p.as_dict() for p in error.problems]}
                    )
            result = {
                "scored": scored,
                "refusals": refusals,
                "confirm_failures": failures,
                "burden": _burden(district),
            }
            raise Rollback(result)
    except Rollback as done:
        return done.result


def _refusal(key: dict, refused) -> dict:
    problems = [p.as_dict() for p in refused.problems] if refused else []
    expected = "refuse" in key
    named = bool(problems) and all(p.get("code") and p.get("message") for p in problems)
    return {
        "form": key["form"],
        "department": key["department"]["name"],
        "expected_refusal": expected,
        "refused": refused is not None,
        "right": expected and refused is not None and named,
        "why": key.get("refuse", {}).get("why"),
        "problems": [{"code": p.get("code"), "field": p.get("field")} for p in problems],
    }


def _burden(district) -> dict:
    from reports.models import ReportTemplate
    from reports.periods import Period, PeriodType
    from reports.services import burden

    templates = ReportTemplate.objects.filter(code__startswith=TEMPLATE_PREFIX)
    year = burden.burden_year(district, YEAR, templates)
    december = burden.burden(district, Period(dt.date(YEAR, 12, 1), PeriodType.MONTH), templates)
    communities = december["units"]["community"] or 1
    before = year["before"] / 12 / communities
    after = year["now"] / 12 / communities
    return {
        "year": YEAR,
        "communities": communities,
        "fields_before": year["before"],
        "fields_after": year["now"],
        "per_community_month_before": round(before, 1),
        "per_community_month_after": round(after, 1),
        "change": round(after / before - 1, 4) if before else None,
        "months": year["months"],
    }


def evaluate(half: str) -> dict:
    """Both passes of one half: accuracy and ideal burden, then burden as proposed."""
    ideal = run_pass(half, as_proposed=False)
    proposed = run_pass(half, as_proposed=True)
    refusals = ideal["refusals"]
    return {
        "half": half,
        "forms": len(ideal["scored"]) + len(refusals),
        "departments": len({s["department"] for s in ideal["scored"] + refusals}),
        **score.totals(ideal["scored"]),
        "refusals": {
            "expected": sum(r["expected_refusal"] for r in refusals),
            "right": sum(r["right"] for r in refusals),
            "readable_refused": sum(r["refused"] and not r["expected_refusal"] for r in refusals),
            "not_refused": sum(not r["refused"] and r["expected_refusal"] for r in refusals),
        },
        "burden_ideal": ideal["burden"],
        "burden_as_proposed": proposed["burden"],
        "confirm_failures": {
            "ideal": ideal["confirm_failures"],
            "as_proposed": proposed["confirm_failures"],
        },
        "per_form": ideal["scored"],
        "refusal_forms": refusals,
    }


def public(result: dict) -> dict:
    """A held-out result that shows nothing of the forms, not even which form went wrong
    (a per-form count would tell the matcher's author where to look): totals only."""
    out = {
        k: v
        for k, v in result.items()
        if k not in ("per_form", "refusal_forms", "confirm_failures")
    }
    out["per_form"] = []
    out["refusal_forms"] = []
    out["confirm_failures"] = {
        k: len(v) if isinstance(v, list) else v for k, v in result["confirm_failures"].items()
    }
    return out


def report_lines(result: dict, *, details: bool) -> list[str]:
    lines = [
        f"forms {result['half']}: {result['right']}/{result['columns'] + result['extra_columns']}"
        f" columns right ({_pct(result['accuracy'])}), {result['forms']} forms,"
        f" {result['departments']} departments; refusals {result['refusals']['right']}"
        f"/{result['refusals']['expected']},"
        f" readable refused {result['refusals']['readable_refused']}",
    ]
    for name in ("burden_ideal", "burden_as_proposed"):
        b = result[name]
        lines.append(
            f"  {name}: {b['per_community_month_before']} → {b['per_community_month_after']}"
            f" fields per community per month ({_signed_pct(b['change'])})"
        )
    for form in result["per_form"]:
        wrong = form["columns"] + form["extras"] - form["right"]
        lines.append(
            f"  {form['form']} {form['department']}: {form['right']}/{form['columns']}"
            + (f" (+{form['extras']} extra)" if form["extras"] else "")
        )
        if details and wrong:
            for c in form.get("results", []):
                if not c["right"]:
                    expected = json.dumps(c["expected"], ensure_ascii=False)
                    lines.append(
                        f"    ✗ {c['column']} {c['heading']}: expected {expected}, got {c['got']}"
                    )
            for c in form.get("extra_columns", []):
                lines.append(
                    f"    ✗ {c['column']} {c['heading']}: not a data column, got {c['got']}"
                )
    for r in result["refusal_forms"]:
        if not r["right"]:
            lines.append(
                f"  {r['form']}: expected refusal {r['expected_refusal']}, refused {r['refused']}"
            )
    failures = result["confirm_failures"]
    if details and isinstance(failures, dict):
        for kind, items in failures.items():
            for item in items:
                lines.append(f"  confirm failed ({kind}) {item['form']}: {item['problems'][:2]}")
    return lines


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _signed_pct(value) -> str:
    if value is None:
        return "–"
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value) * 100:.1f}%"


def write_details(result: dict) -> Path:
    """The held-out half's full result, kept under the folder the matcher does not read."""
    path = HERE / "heldout" / "last_errors.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def write(half: str) -> Path:
    """Run the half as the bench case and save bench/results/forms_<half>.json (the
    harness's format, which bench/results/latest.md is made from)."""
    from bench import cases_forms, harness

    case = {"tune": cases_forms.FormsTune, "heldout": cases_forms.FormsHeldout}[half]()
    result = harness.run_case(case, environment=harness.environment())
    if result.error:
        raise SystemExit(f"{case.name}: {result.error}")
    path = harness.save(result)
    harness.write_latest()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forms.evaluate", description=__doc__)
    parser.add_argument("halves", nargs="*", choices=[*HALVES, []], default=["tune"])
    parser.add_argument(
        "--no-write", action="store_true", help="print only (no bench/results/ file)"
    )
    parser.add_argument(
        "--show-heldout", action="store_true", help="print the held-out half's errors too"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for half in args.halves or ["tune"]:
        if not args.no_write:
            path = write(half)
            result = json.loads(path.read_text("utf-8"))["check"]
            print(f"written {path}")
        else:
            result = evaluate(half)
        details = half == "tune" or args.show_heldout
        if half == "heldout" and details and not args.no_write:
            result = json.loads((HERE / "heldout" / "last_errors.json").read_text("utf-8"))
        shown = result if details else public(result)
        print("\n".join(report_lines(shown, details=details)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
