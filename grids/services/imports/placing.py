"""Which household each resident row belongs to (by household key, or by standard address
with spaces ignored), and who is there already: a re-imported person is left as is, a person
of another household is an error, and so is a second row of one person."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Value
from django.db.models.functions import Replace
from django.utils.translation import gettext as _

from grids.models import Household, Resident, today
from grids.services.imports.people import SPACES, add_problem
from grids.services.imports.report import ImportReport

# PostgreSQL takes at most 65,535 parameters in one statement and a district's file names
# more people and households than that, so lookups by a file's keys go in batches; as few
# as that limit allows (one scan of the residents per batch: id_number has no index).
BATCH = 50_000


def mark_duplicates(records: list[dict], report: ImportReport) -> None:
    """One person is one row: a second row with the same ID number is an error (the row
    stays, so that its other problems are named too)."""
    seen: dict[str, int] = {}
    for record in records:
        if record["id_number"] is None:  # no ID number to compare: its problem is named
            continue
        first = seen.setdefault(record["id_number"], record["row"])
        if first == record["row"]:
            continue
        record["ok"] = False
        add_problem(
            report,
            record["row"],
            "id_number",
            "duplicate_person",
            _("the same ID number is on row %(row)d: one row per person") % {"row": first},
            value=record["id_number"],
        )


def _normalised_address(value: str) -> str:
    return SPACES.sub("", value)


def batches(values) -> list[list]:
    """The values in lists of at most BATCH, sorted (so that row locks are taken in one
    order by every writer)."""
    ordered = sorted(values)
    return [ordered[i : i + BATCH] for i in range(0, len(ordered), BATCH)]


def find_households(records: list[dict], report: ImportReport) -> dict[int, Household]:
    """Find each row's household (by key when the file has one, else by standard address,
    spaces ignored); set record["household"]. Returns the households found by id."""
    keys = {r["client_key"] for r in records if r["client_key"]}
    addresses = {_normalised_address(r["address"]) for r in records if not r["client_key"]}
    # Only what the checks and the member counts read: no point to parse per household.
    fields = ("id", "client_key", "address", "removed_on", "member_count")
    by_key = {
        h.client_key: h
        for batch in batches(keys)
        for h in Household.objects.filter(client_key__in=batch).only(*fields)
    }
    by_address = defaultdict(list)
    spaceless = Replace(Replace(F("address"), Value(" "), Value("")), Value("\u3000"))
    for batch in batches(addresses):
        for household in (
            Household.objects.only(*fields)
            .annotate(spaceless=spaceless)
            .filter(spaceless__in=batch)
            .order_by("pk")
        ):
            by_address[household.spaceless].append(household)
    day = today()
    found = {}
    kept = []
    for record in records:
        row = record["row"]
        if not record["client_key"] and not record["address"]:
            continue  # already named: the household is not given
        if record["client_key"]:
            household = by_key.get(record["client_key"])
            field, value = "client_key", record["client_key"]
            if household is None:
                add_problem(
                    report,
                    row,
                    field,
                    "unknown_household",
                    _("no household has this key"),
                    value=value,
                )
        else:
            field, value = "address", record["address"]
            matches = by_address.get(_normalised_address(value), [])
            current = [h for h in matches if h.removed_on is None or h.removed_on > day]
            household = current[0] if len(current) == 1 else None
            if not matches:
                add_problem(
                    report,
                    row,
                    field,
                    "unknown_household",
                    _(
                        "no household has this standard address (import the households first, "
                        "or give the household key, 户编号)"
                    ),
                    value=value,
                )
            elif len(current) > 1:
                add_problem(
                    report,
                    row,
                    field,
                    "ambiguous_address",
                    _(
                        "%(n)d households have this address: give the household key "
                        "(户编号) with --field client_key=COLUMN"
                    )
                    % {"n": len(current)},
                    value=value,
                )
            elif not current:
                household = matches[-1]
        if household is not None and household.removed_on and household.removed_on <= day:
            add_problem(
                report,
                row,
                field,
                "household_removed",
                _("the household was removed on %(day)s") % {"day": household.removed_on},
                value=value,
            )
            household = None
        if household is None:
            continue
        if (
            record["client_key"]
            and record["address"]
            and _normalised_address(record["address"]) != _normalised_address(household.address)
        ):
            add_problem(
                report,
                row,
                "address",
                "address_differs",
                _("the household with this key is at %(address)s; the key was used")
                % {"address": household.address},
                value=record["address"],
                severity="warning",
            )
        record["household"] = household.pk
        found[household.pk] = household
        kept.append(record)
    records[:] = kept
    return found


def drop_present(records: list[dict], households: dict, report: ImportReport) -> None:
    """A person already a resident of the row's household is left as is (a re-import); one
    registered in another household is an error: a person lives in one household."""
    ids = [r["id_number"] for r in records if r["id_number"]]
    there = {}
    for batch in batches(ids):
        for id_number, household_id, address in Resident.objects.filter(
            id_number__in=batch
        ).values_list("id_number", "household_id", "household__address"):
            there[id_number] = (household_id, address)
    kept = []
    for record in records:
        if record["id_number"] not in there:
            kept.append(record)
            continue
        household_id, address = there[record["id_number"]]
        if household_id == record["household"]:
            report.skipped_existing += record["ok"]
        else:
            add_problem(
                report,
                record["row"],
                "id_number",
                "resident_elsewhere",
                _(
                    "this person is already a resident of the household at %(address)s; a "
                    "person lives in one household (move them in the app)"
                )
                % {"address": address},
                value=record["id_number"],
            )
    records[:] = kept
