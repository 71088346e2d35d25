"""The kinds of outbox items, one module per family: each registers its appliers in KINDS
(base.kind). Importing this package registers them all."""

from field.services.kinds import (
    basedata,
    incidents,
    ledger,
    needs,
    notifications,
    patrols,
    tasks,
)
from field.services.kinds.base import (
    KINDS,
    Applied,
    Conflict,
    Context,
    Kind,
    not_found,
    refused,
)

__all__ = [
    "KINDS",
    "Applied",
    "Conflict",
    "Context",
    "Kind",
    "basedata",
    "incidents",
    "ledger",
    "needs",
    "not_found",
    "notifications",
    "patrols",
    "refused",
    "tasks",
]
