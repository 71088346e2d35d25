"""The team's forms set (bench/forms/): its files are what the generator writes, its keys
are well-formed and name what exists, the scorer compares definitions by meaning, and the
merge meets the issue's target on both halves, measured without writing anything.

Held-out content never appears in an assertion message: a failure there gives counts only
(the matcher's author must not see the held-out half, nor which of its forms went wrong)."""

from __future__ import annotations

import json

import pytest

from bench import cases_forms
from bench.forms import evaluate, make_forms, score
from bench.forms.answers import age, category, cond, registration, residents, subject, tag
from reports import catalogue
from reports.definitions import validate
from reports.definitions.seeds import SEEDS
from reports.derived import all_derivations
from reports.models import FormImport, Indicator, ReportTemplate

HALVES = ("tune", "heldout")


@pytest.mark.parametrize("half", HALVES)
def test_the_files_are_what_the_generator_writes(half, tmp_path, monkeypatch):
    monkeypatch.setattr(make_forms, "HERE", tmp_path)
    (tmp_path / half).mkdir()
    written = make_forms.write_half(half)
    for path in written:
        original = evaluate.HERE / half / path.name
        assert original.exists(), f"{half}/{path.name} is not committed"
        assert path.read_bytes() == original.read_bytes(), (
            f"{half}: a file differs from its generator"
        )
        key = path.with_suffix("").with_suffix(".key.json")
        assert json.loads(key.read_text("utf-8")) == json.loads(
            original.with_suffix("").with_suffix(".key.json").read_text("utf-8")
        ), f"{half}/{key.name} differs from its generator"


def test_the_set_is_large_and_varied_enough():
    readable = {h: [k for _p, k in evaluate.load(h) if "columns" in k] for h in HALVES}
    refusals = {h: [k for _p, k in evaluate.load(h) if "refuse" in k] for h in HALVES}
    assert sum(len(forms) for forms in readable.values()) >= 20
    departments = {k["department"]["code"] for forms in readable.values() for k in forms}
    assert len(departments) >= 12
    for half in HALVES:
        assert len(readable[half]) >= 10, half
        assert len({k["department"]["code"] for k in readable[half]}) >= 10, half
        assert {r["refuse"]["why"] for r in refusals[half]} == {"numbers_only", "no_header"}
        kinds = {k["period_type"] for k in readable[half]}
        assert {"month", "quarter", "year"} <= kinds, half
        assert {"grid", "community"} <= {k["row_level"] for k in readable[half]}, half
        answers = {next(iter(c["answer"])) for k in readable[half] for c in k["columns"].values()}
        assert answers == {"indicator", "definition", "new"}, half


@pytest.mark.django_db
@pytest.mark.parametrize("half", HALVES)
def test_every_key_names_what_exists_and_every_definition_validates(half):
    known = (
        {spec.code for spec in catalogue.INDICATORS}
        | {d.code for d in all_derivations()}
        | {seed[0] for seed in SEEDS}
    )
    bad = 0
    for _path, key in evaluate.load(half):
        for column in key.get("columns", {}).values():
            for answer in [column["answer"], *column.get("also", [])]:
                if "indicator" in answer and answer["indicator"] not in known:
                    bad += 1
                if "definition" in answer and validate(answer["definition"]):
                    bad += 1
                if "new" in answer and answer["new"]["level"] not in ("grid", "community"):
                    bad += 1
    assert bad == 0, f"{bad} answers of the {half} keys name nothing that exists"


def test_definitions_compare_by_meaning():
    under_15 = residents(age("<", 15))
    assert score.meaning(under_15) == score.meaning(residents(age("<=", 14)))
    assert score.meaning(under_15) == score.meaning(residents(age("between", [0, 14])))
    assert score.meaning(residents(age(">=", 80))) != score.meaning(residents(age(">", 80)))
    assert score.meaning(residents(registration("floating"))) == score.meaning(
        residents(cond("registration", "in", ["floating"]))
    )
    assert score.meaning(residents(tag("disabled", "一级"))) != score.meaning(
        residents(tag("disabled"))
    )
    assert score.meaning(residents(tag("low_income"), tag("disabled"))) == score.meaning(
        residents(tag("disabled"), tag("low_income"))
    )
    assert score.meaning(residents(tag("low_income"))) != score.meaning(
        residents(tag("low_income"), measure={"distinct": "household"})
    )
    fixed = subject("incidents", category("06"), time={"within": "closed_at"})
    said_closed = subject(
        "incidents",
        category("06"),
        cond("status", "in", ["closed", "assessed"]),
        time={"within": "closed_at"},
    )
    assert score.meaning(fixed) == score.meaning(said_closed)
    assert score.meaning(fixed) != score.meaning(
        subject("incidents", category("06"), time={"within": "reported_at"})
    )
    assert score.meaning({"any": "not a definition"}) is None


def test_a_column_is_right_by_code_by_meaning_or_as_the_new_item_an_earlier_form_made():
    key = {"answer": {"indicator": "POP_AGE_80"}, "also": []}
    defined = {"POP_AGE_80": residents(age(">=", 80))}
    right = dict(definition_of=defined.get, created={})
    assert score.is_right({"indicator": "POP_AGE_80"}, key, **right)
    assert score.is_right({"definition": residents(age(">", 79))}, key, **right)
    assert not score.is_right({"definition": residents(age(">=", 60))}, key, **right)
    assert not score.is_right({"new": {"level": "grid"}}, key, **right)
    new = {"answer": {"new": {"level": "community", "item": "coops"}}, "also": []}
    assert score.is_right({"new": {"level": "grid"}}, new, **right)
    made = dict(definition_of=defined.get, created={"coops": "FS_COOPS"})
    assert not score.is_right({"new": {"level": "community"}}, new, **made)
    assert score.is_right({"indicator": "FS_COOPS"}, new, **made)


@pytest.mark.parametrize("half", HALVES)
def test_the_keys_score_full_marks_against_themselves(half):
    assert cases_forms.keys_as_proposals(half)["accuracy"] == 1.0


def _counts():
    return (
        ReportTemplate.objects.count(),
        Indicator.objects.count(),
        FormImport.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("half", HALVES)
def test_the_merge_meets_the_issue_target_and_writes_nothing(district, half):
    before = _counts()
    result = evaluate.run_pass(half, as_proposed=False)
    assert _counts() == before
    totals = score.totals(result["scored"])
    refusals = result["refusals"]
    assert not result["confirm_failures"], len(result["confirm_failures"])
    assert all(r["right"] for r in refusals), sum(not r["right"] for r in refusals)
    if half == "tune":
        wrong = [
            (s["form"], c["column"], c["heading"], c["got"])
            for s in result["scored"]
            for c in s["results"]
            if not c["right"]
        ]
        assert totals["accuracy"] >= 0.9, wrong
    else:
        assert totals["accuracy"] >= 0.9, (totals["right"], totals["columns"])
    assert result["burden"]["per_community_month_before"] > 0
