"""The sensors of OGC API – Features (issue #19): one collection per sensor type the user may
see, `sensors-<type code>` (type codes are slugs, so the id is a URL segment).

A type's devices share its role and its properties schema, which is why a collection is a
type and not the whole registry: a desktop GIS gets one geometry and one set of attributes
per layer. The rows are `Sensor.objects.visible_to(user)` (the grid rule, plus a
department's own devices and the district centre's devices in no grid).
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids import scoping
from ogc.collections import values_of
from ogc.registry import Collection, Property, register_family
from sensors.models import Role, Sensor, SensorType, Status
from sensors.ogc_editors import editor_for
from sensors.services.registry import types_for_district

PREFIX = "sensors-"

PROPERTIES = (
    Property("code", "code", "string", _("code"), nullable=False),
    Property("name", "name", "string", _("name"), nullable=False),
    Property("type", "type__code", "string", _("type"), nullable=False),
    Property("role", "role", "string", _("role"), enum=values_of(Role), nullable=False),
    Property(
        "status",
        "status",
        "string",
        _("status"),
        enum=values_of(Status),
        nullable=False,
    ),
    Property("grid", "grid__code", "string", _("grid")),
    Property("department", "department__code", "string", _("department")),
    Property("installed_on", "installed_on", "date", _("installed on")),
    Property("last_seen_at", "last_seen_at", "date-time", _("last heartbeat")),
    Property("latest_at", "latest_at", "date-time", _("latest reading at")),
    # JSON objects as they are (GeoJSON allows nested objects); their keys differ per type.
    Property("properties", "properties", "object", _("properties"), queryable=False),
    Property("latest", "latest", "object", _("latest reading"), queryable=False),
)


def types_visible_to(user):
    """Active built-in types and the user's district's own (an administrator: all active)."""
    if not (user.is_authenticated and user.is_active):
        return SensorType.objects.none()
    if scoping.sees_everything(user):
        return SensorType.objects.filter(active=True)
    return types_for_district(scoping.user_district(user))


def collection_for(sensor_type: SensorType) -> Collection:
    type_id = sensor_type.pk

    def queryset(user):
        return Sensor.objects.visible_to(user).filter(type=type_id)

    return Collection(
        id=f"{PREFIX}{sensor_type.code}",
        title=sensor_type.name,
        description=gettext("Sensors of the type %(name)s (%(code)s) in your jurisdiction.")
        % {"name": sensor_type.name, "code": sensor_type.code},
        queryset=queryset,
        geometry="location",
        geometry_type="Point",
        id_field="code",
        id_type="string",
        properties=PROPERTIES,
        # A type may have hundreds of thousands of devices (detectors): no COUNT per page.
        large=True,
        # Part 4: written through sensors.services.registry (sensors/ogc_editors.py).
        editor=editor_for(sensor_type),
        order=60,
        keywords=("sensor", sensor_type.role),
        extras={"sensor_type": sensor_type.code},
    )


def sensor_collections(user):
    for sensor_type in types_visible_to(user).order_by("code"):
        yield collection_for(sensor_type)


register_family(sensor_collections)
