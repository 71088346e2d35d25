"""The audit trail of personal data: who read which unmasked records, when and where."""

from __future__ import annotations

from collections.abc import Iterable

from grids.models import AuditLog


def log_personal_read(user, model: str, ids: Iterable[int], *, channel: str, path: str = ""):
    ids = sorted(set(ids))
    if not ids:
        return None
    return AuditLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        action=AuditLog.Action.READ_PERSONAL,
        model=model,
        object_ids=ids,
        channel=channel,
        path=path[:255],
    )
