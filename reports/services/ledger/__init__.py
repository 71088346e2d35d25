"""The ledger (台账): for one unit (a grid, community or street) and period, the collected
indicators its district's templates need, each entered once. Saving is idempotent and
versioned; rules between indicators are checked as data; a period locks after its due date
plus grace days and a higher level can reopen it.

One module per idea (access, due, sheet, validation, entries, submission); every name stays
importable from `reports.services.ledger`."""

from reports.services.ledger.access import (
    LedgerRefused,
    district_of,
    level_of,
    may_enter,
    may_reopen,
    responsible_users,
    unit_kwargs,
)
from reports.services.ledger.due import (
    active_templates,
    derived_for,
    due_date,
    due_indicators,
    is_locked,
    lock_date,
    periods_open,
    reopened_until,
)
from reports.services.ledger.entries import Saved, save
from reports.services.ledger.sheet import Item, derived_values, history, sheet
from reports.services.ledger.submission import reopen, submit
from reports.services.ledger.validation import check_rules

__all__ = [
    "Item",
    "LedgerRefused",
    "Saved",
    "active_templates",
    "check_rules",
    "derived_for",
    "derived_values",
    "district_of",
    "due_date",
    "due_indicators",
    "history",
    "is_locked",
    "level_of",
    "lock_date",
    "may_enter",
    "may_reopen",
    "periods_open",
    "reopen",
    "reopened_until",
    "responsible_users",
    "save",
    "sheet",
    "submit",
    "unit_kwargs",
]
