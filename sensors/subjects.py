"""Sensors as a subject of indicators defined as data (reports.subjects): devices installed
on or before the day (a device with no install date counts), on the grid stored on them.
Sensors keep no grid history and status keeps none either: a past period counts the
registry as it is now (sensors/indicators.py recounts past days by point; a definition
does not)."""

from __future__ import annotations

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from reports.derived import Context
from reports.subjects import CHOICE, DATE, REF, Field, enum_choices, in_grids, register
from sensors.models import Role, Sensor, SensorType, Status


def sensor_types() -> list[tuple[str, str]]:
    return list(SensorType.objects.values_list("code", "name"))


def sensor_rows(context: Context, stock: bool):
    rows = Sensor.objects.annotate(grid_on=F("grid_id"))
    if stock:
        rows = rows.filter(Q(installed_on__isnull=True) | Q(installed_on__lte=context.on))
    return in_grids(rows, context.grid_ids)


register(
    "sensors",
    _("sensors"),
    "台",
    sensor_rows,
    [
        Field("type", _("sensor type"), CHOICE, "type__code", choices=sensor_types),
        Field("role", _("role"), CHOICE, "role", choices=enum_choices(Role)),
        Field("status", _("status"), CHOICE, "status", choices=enum_choices(Status)),
        Field("installed_on", _("installed on"), DATE, "installed_on", flow=True),
        Field("gateway", _("gateway"), REF, "gateway", measurable=True),
    ],
    stock_means=_("on the grid stored on them; status as it is now"),
)
