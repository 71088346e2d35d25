"""The ledger (一表通 台账) from the phone: values for the worker's grid and a period, saved
by the reports app's ledger service (its checks, rules and locking; its problems name the
indicator).

Conflicts are per cell when the phone sends `data.versions` ({indicator: the version it
saw}): the service locks the cells and refuses one changed since, so two people filling
different cells never conflict. Without them the item's base_version (the sheet's version,
field.services.versions.ledger) must be current, and the cells being saved are then held to
the versions just read, so a change between that read and the write is caught too."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from field.services import versions
from field.services.kinds import records
from field.services.kinds.base import Applied, Conflict, Context, check_version, kind, refused
from grids.models import Grid
from grids.problems import ProblemsError
from reports.api.serializers import LedgerSaveSerializer
from reports.services import ledger

SET = "ledger"


def ledger_id(grid: Grid, period) -> str:
    return f"{grid.code}:{period.key}"


@kind("ledger.save")
def save(ctx: Context) -> Applied:
    code, _sep, period_key = str(ctx.target or "").rpartition(":")
    data = ctx.data
    unknown = sorted(set(data) - {"values", "versions"})
    if unknown:
        raise refused("unknown_field", _("a ledger item has values and versions"), unknown[0])
    checked = LedgerSaveSerializer(
        data={"unit": code or "-", "period": period_key, **data, "client_key": str(ctx.client_key)}
    )
    if not checked.is_valid():
        # The grid and the period are the target's parts: the target is named for them.
        raise ValidationError(
            {("target" if k in ("unit", "period") else k): v for k, v in checked.errors.items()}
        )
    fields = checked.validated_data
    period = fields["period"]
    grid = Grid.objects.visible_to(ctx.user).current().filter(code=code).first()
    if grid is None:
        raise refused("not_found", _("there is no such ledger in your grid"), "target", status=404)
    record_id = ledger_id(grid, period)
    cells = fields.get("versions")
    if cells is None:
        sheet = ledger.sheet(grid, period)
        check_version(
            ctx,
            versions.record_version("ledger", sheet),
            lambda: records.one(SET, record_id, ctx.user),
            SET,
        )
        cells = {
            item.indicator.code: item.version
            for item in sheet["items"]
            if item.indicator.code in fields["values"]
        }
    try:
        ledger.save(
            ctx.user,
            grid,
            period,
            fields["values"],
            versions=cells,
            client_key=str(ctx.client_key),
        )
    except ProblemsError as error:
        if getattr(error, "status_code", 400) == 409 and error.problems[0].code == "stale":
            current = records.one(SET, record_id, ctx.user)
            raise Conflict(
                current, current.get("version", ""), SET, error.problems[0].message
            ) from None
        if getattr(error, "status_code", 400) == 409:
            # A locked period: the main API's 409, but on the phone a 409 is a conflict the
            # worker resolves by choosing a version, and no version passes a lock (a higher
            # level reopens it). A refusal (403) tells the worker so (the contract's rule).
            error.status_code = 403
        raise
    return Applied(records.one(SET, record_id, ctx.user), SET, None)
