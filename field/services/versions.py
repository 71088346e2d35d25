"""The version of each record the phone holds (issue #18). Every record of the working set
carries `version`; every edit from the phone sends the version it was based on as
`base_version`, and the outbox refuses a stale one with the current record (409).

Households, buildings, units and residents: the row's `updated_at` with microseconds
(households fold in what changes without a save, as the OGC editor's ETag does); incidents:
their own `version` counter; the ledger: a digest of its entries' versions and its lock."""

from __future__ import annotations

import hashlib
import json

from ogc.editors import version as household_version

DIGEST_CHARS = 16


def stamp_of(value) -> str:
    """A short digest of any JSON-able value: equal values give equal stamps."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def time_version(value) -> str:
    # Rows written before Resident.updated_at existed have none: "" is still a version,
    # and the first save gives them a real one.
    return value.isoformat(timespec="microseconds") if value else ""


def household(obj) -> str:
    return household_version(obj)


def place(obj) -> str:
    """Buildings, units and residents: the last save."""
    return time_version(obj.updated_at)


def incident(obj) -> str:
    return str(obj.version)


def ledger(sheet: dict) -> str:
    """The sheet as the phone edits it: each entry's version, the lock and the submission."""
    submission = sheet["submission"]
    return stamp_of(
        {
            "entries": {item.indicator.code: item.version for item in sheet["items"]},
            "locked": sheet["locked"],
            "reopened_until": sheet["reopened_until"],
            "submitted": submission.submitted_at if submission else None,
        }
    )


_BY_KIND = {
    "households": household,
    "household": household,
    "buildings": place,
    "building": place,
    "units": place,
    "unit": place,
    "residents": place,
    "resident": place,
    "incidents": incident,
    "incident": incident,
}


def record_version(kind: str, obj) -> str:
    """The version string of one record of a kind (a set name or its singular: "households"
    or "household"). The ledger's is `ledger(sheet)`: a sheet is not one row."""
    if kind == "ledger":
        return ledger(obj)
    try:
        return _BY_KIND[kind](obj)
    except KeyError:
        raise ValueError(f"no version for records of kind {kind!r}") from None
