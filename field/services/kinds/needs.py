"""Needs from the phone (#20): a need (需求 / 微心愿) a grid worker raises on a visit, with
photos, and the worker's confirmation (确认完成) with the resident's satisfaction once the
provider has reported. Both go through the needs app's services, which keep every rule (the
grid keyed from the point, the household in the grid, who may confirm, versions); this
module only reads the phone's flat item and answers in the working-set shape."""

from __future__ import annotations

from django.utils.translation import gettext as _

from field.services.kinds import records
from field.services.kinds.base import (
    Applied,
    Conflict,
    Context,
    kind,
    not_found,
    point,
    refused,
    target_id,
    text,
    whole_number,
)
from needs.models import Need, NeedSource
from needs.services import dispatch, intake
from needs.services.errors import Refused, Stale

SET = "needs"
# What a need raised on the phone may carry; anything else is refused by name, so a field the
# worker typed is never dropped quietly.
RAISE_FIELDS = {
    "kind",
    "title",
    "description",
    "urgency",
    "lon",
    "lat",
    "accuracy_m",
    "address",
    "household_id",
    "contact_name",
    "contact_phone",
}
CONFIRM_FIELDS = {"satisfaction", "feedback"}


def _only(data: dict, allowed: set[str]) -> None:
    for name in data:
        if name not in allowed:
            raise refused(
                "unknown_field", _("this item does not take %(field)s") % {"field": name}, name
            )


def _refusal(error: Refused):
    """The needs service's refusal in the outbox's error shape (its status when it has one)."""
    return refused(error.code, str(error.message), error.field, getattr(error, "status", 400))


@kind("need.raise", photos=True)
def raise_need(ctx: Context) -> Applied:
    data = ctx.data
    _only(data, RAISE_FIELDS)
    code = data.get("kind")
    if code is not None and not (isinstance(code, str) and code.isascii()):
        # The phone sends the kind's code, as the pull gave it.
        raise refused("invalid", _("no such service kind"), "kind")
    fields = {
        "kind": code,
        "title": text(data, "title", 60),
        "description": text(data, "description", 1000),
        "urgency": data.get("urgency") or "normal",
        "address": text(data, "address", 200),
        "contact_name": text(data, "contact_name", 50),
        "contact_phone": text(data, "contact_phone", 20),
        "client_key": str(ctx.client_key),
    }
    if data.get("lon") is not None or data.get("lat") is not None:
        fields["location"] = point(data)
    if data.get("household_id") not in (None, ""):
        fields["household"] = whole_number(data["household_id"], "household_id")
    try:
        need = intake.raise_need(ctx.user, fields, list(ctx.photos), source=NeedSource.GRID_WORKER)
    except Refused as error:
        raise _refusal(error) from None
    return Applied(records.one(SET, need.pk, ctx.user), SET, need.pk)


@kind("need.confirm")
def confirm(ctx: Context) -> Applied:
    data = ctx.data
    _only(data, CONFIRM_FIELDS)
    pk = target_id(ctx)
    if ctx.base_version in (None, ""):
        raise refused(
            "required",
            _("a confirmation says which version of the need it was based on"),
            "base_version",
        )
    version = whole_number(ctx.base_version, "base_version")
    satisfaction = data.get("satisfaction")
    if isinstance(satisfaction, bool) or satisfaction not in (1, 2, 3, 4, 5, *"12345"):
        raise refused("invalid", _("satisfaction is a whole number from 1 to 5"), "satisfaction")
    # The worker's own grid only: a need of another grid is "not found", naming nothing.
    need = Need.objects.visible_to(ctx.user).filter(grid=ctx.user.grid_id, pk=pk).first()
    if need is None:
        raise not_found("need")
    try:
        need = dispatch.confirm(
            need, ctx.user, version, int(satisfaction), text(data, "feedback", 200)
        )
    except Stale as stale:
        current = getattr(stale, "current", None)
        raise Conflict(
            records.one(SET, pk, ctx.user), str(getattr(current, "version", "")), SET
        ) from None
    except Refused as error:
        raise _refusal(error) from None
    return Applied(records.one(SET, pk, ctx.user), SET, pk)
