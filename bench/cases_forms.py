"""The forms set (bench/forms/): how much of each department form the merge gets right
unaided, and the burden once the forms are templates. Two cases, one per half; the figures
are the point (no time target): bench/results/forms_tune.json and forms_heldout.json.

- ours: bench.forms.evaluate on the half (propose each form, score it against its key,
  confirm it; burden over the year; all rolled back);
- reference: the answer keys proposing themselves, through the same scorer: it must score
  100 %, or the scorer is broken and the figure means nothing.

The held-out case keeps counts only in its results file (its headings stay under
bench/forms/heldout/, which the matcher's author does not read)."""

from __future__ import annotations

from bench.forms import evaluate, score
from bench.harness import Case, CheckFailed

ISSUE_ACCURACY = 0.90
ISSUE_BURDEN = -0.65


def keys_as_proposals(half: str) -> dict:
    """Each key column proposed as its own answer (a later form's shared new item as the
    indicator an earlier form created), scored: the scorer's own check."""
    created: dict[str, str] = {}
    scored = []
    for _path, key in evaluate.load(half):
        if "refuse" in key:
            continue
        proposals = []
        made = {}
        for n, (letter, column) in enumerate(key["columns"].items()):
            answer = column["answer"]
            item = answer.get("new", {}).get("item")
            if item and item in created:
                choice = {"indicator": created[item]}
            elif "new" in answer:
                choice = {"new": {"level": answer["new"]["level"]}}
                if item:
                    made[item] = f"ITEM_{item.upper()}"
            else:
                choice = answer
            proposals.append({"column": n, "cell": f"{letter}3", "choice": choice})
        scored.append(
            score.score_form(key, proposals, definition_of=lambda _code: None, created=created)
        )
        created.update(made)
    return score.totals(scored)


class FormsCase(Case):
    half = ""
    ours_label = "the merge on the forms set (reports.services.forms.propose, burden)"
    reference_label = "the answer keys scored as proposals"
    target = None
    repeats = 1

    def ours(self):
        return evaluate.evaluate(self.half)

    def reference(self):
        return keys_as_proposals(self.half)

    def check(self, ours, reference) -> dict:
        if reference["accuracy"] != 1.0:
            raise CheckFailed(f"the keys score {reference['accuracy']} against themselves")
        figures = evaluate.public(ours) if self.half == "heldout" else ours
        if self.half == "heldout":
            evaluate.write_details(ours)
        burden = ours["burden_ideal"]["change"]
        met = (ours["accuracy"] or 0) >= ISSUE_ACCURACY and (
            burden is not None and burden <= ISSUE_BURDEN
        )
        return figures | {
            "issue_target": "≥ 90 % of columns right, fields per community per month −65 %",
            "issue_target_status": "PASS" if met else "FAIL",
        }


class FormsTune(FormsCase):
    name = "forms_tune"
    description = "Forms set, tune half: columns right unaided, burden before → after"
    half = "tune"


class FormsHeldout(FormsCase):
    name = "forms_heldout"
    description = "Forms set, held-out half: columns right unaided, burden before → after"
    half = "heldout"


CASES = [FormsTune, FormsHeldout]
