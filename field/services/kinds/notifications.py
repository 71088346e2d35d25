"""Notifications read on the phone, marked read by the notifications app's service (only
the worker's own; an id that is not theirs is skipped, as the main API does)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from field.services.kinds.base import Applied, Context, kind, refused, whole_number
from notifications.services import mark_read

MAX_IDS = 500


@kind("notification.read")
def read(ctx: Context) -> Applied:
    ids = ctx.data.get("ids")
    if not isinstance(ids, list) or not ids:
        raise refused("required", _("ids lists the notifications read"), "ids")
    if len(ids) > MAX_IDS:
        raise refused("too_many", _("at most %(n)d ids in one item") % {"n": MAX_IDS}, "ids")
    numbers = [whole_number(value, f"ids.{i}") for i, value in enumerate(ids)]
    marked = mark_read(ctx.user, numbers)
    # No one record to upsert: the phone marked them read itself; the answer says how many
    # were still unread here.
    return Applied(None, "notifications", extra={"ids": numbers, "marked": marked})
