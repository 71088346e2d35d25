"""One record in the working set's shape, for the push's answers: built by the pull's own
builders (field.services.basedata and worklists, limited to the ids asked for), so that the
record the phone upserts after a push is byte for byte the one the next pull would send."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from field.services import basedata, worklists
from field.services.kinds.base import refused
from reports.periods import Period

LARGE = {
    "households": basedata.household_records,
    "residents": basedata.resident_records,
    "buildings": basedata.building_records,
    "units": basedata.unit_records,
}
SMALL = {
    "incidents": worklists.incidents,
    "tasks": worklists.tasks,
    "visits": worklists.visits,
    "patrols": worklists.patrols,
    "needs": worklists.needs,
}


def one(set_name: str, pk, user) -> dict | None:
    """The record `pk` of the set as the user's pull would send it (None when the user may
    not see it any more, e.g. a household moved out of the grid by the edit)."""
    if set_name == "ledger":
        code, _sep, period = str(pk).rpartition(":")
        found = worklists.ledger(user, period=Period.parse(period))
    elif set_name in LARGE:
        found = LARGE[set_name](basedata.Scope(user, user.grid_id), ids=[pk])
    else:
        found = SMALL[set_name](user, ids=[pk])
    return found[0] if found else None


def uuid_of(value, field_name: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise refused("invalid", _("not a client key (UUID)"), field_name) from None
