"""A patrol from the phone: saved when the worker stops it (field.services.patrols), then
the incidents reported on the way with its key, which reached the server before it, are
attached."""

from __future__ import annotations

from field.services import patrols
from field.services.kinds import records
from field.services.kinds.base import Applied, Context, kind, receipts_naming

SET = "patrols"


@kind("patrol.save")
def save(ctx: Context) -> Applied:
    # The patrol's key is the one its incidents name: the phone makes it when the patrol
    # starts and sends it as the item's own key (or as data.patrol_client_key).
    key = ctx.data.get("patrol_client_key")
    key = records.uuid_of(key, "patrol_client_key") if key else str(ctx.client_key)
    patrol, _created = patrols.record(ctx.user, client_key=key, data=ctx.data, received=ctx.now)
    earlier = receipts_naming(ctx.user, "incident.report", key, "patrol")
    patrols.attach(patrol, earlier.exclude(target_id=None).values_list("target_id", flat=True))
    return Applied(records.one(SET, patrol.pk, ctx.user), SET, patrol.pk)
