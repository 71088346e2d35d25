"""Part 4 for the sensor collections (one per type, sensors/ogc.py): devices are written
through sensors.services.registry with the registry API's own rules (sensors/api/registry.py):
who registers (SENSOR_WRITERS; a department its own devices only), who deletes
(DISTRICT_ROLES; a device with broadcasts or alerts on record is 409), the type's JSON
Schema for `properties`, the grid stored on write.

A feature's `type` is the collection's; `code` is its id (given on create, fixed after);
`department` and `installed_on` are set on create (the API changes neither afterwards).
PATCH merges `properties` member by member (RFC 7396); PUT replaces it whole.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from grids.problems import Problem, ProblemsError
from ogc.edits import jsonable, merge_patch, problems_of, service_fields
from ogc.registry import Editor, Feature
from sensors.api.registry import (
    DISTRICT_ROLES,
    SENSOR_WRITERS,
    keeps,
    register_sensor,
)
from sensors.api.serializers import SensorCreateSerializer, SensorUpdateSerializer
from sensors.models import Sensor, SensorType
from sensors.services import registry

WRITABLE = ("code", "name", "status", "department", "installed_on", "properties")
REQUIRED = ("code",)
# Set when a device is registered; afterwards the registry keeps them as they are.
FIXED = ("code", "department", "installed_on")


def _point(feature: Feature) -> dict:
    if feature.geometry is None:
        return {}
    return {"lon": feature.geometry.x, "lat": feature.geometry.y}


def _validated(serializer) -> dict:
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as error:
        raise problems_of(error) from None
    return dict(serializer.validated_data)


def _refused(field: str, message: str, code: str = "invalid", status: int = 400):
    error = ProblemsError([Problem(code, message, field=field)])
    if status != 400:
        error.status_code = status
    return error


def _owned(user, sensor: Sensor) -> None:
    if not keeps(user, sensor):
        raise _refused(
            "id", _("a department changes its own devices only"), "permission_denied", status=403
        )


def _fixed_unchanged(sensor: Sensor, properties: dict) -> None:
    """The members fixed after registration may be sent back as they are, never changed."""
    current = {
        "code": sensor.code,
        "department": sensor.department.code if sensor.department_id else None,
        "installed_on": jsonable(sensor.installed_on),
    }
    problems = [
        Problem(
            "read_only",
            _("this property is set when the device is registered"),
            field=f"properties.{name}",
        )
        for name in FIXED
        if name in properties and properties[name] != current[name]
    ]
    if problems:
        raise ProblemsError(problems)


def editor_for(sensor_type: SensorType) -> Editor:
    type_code = sensor_type.code

    def create(user, feature: Feature) -> Sensor:
        properties = feature.properties
        data = {
            **{name: properties[name] for name in WRITABLE if name in properties},
            "type": type_code,
            **_point(feature),
        }
        fields = _validated(SensorCreateSerializer(data=data))
        try:
            with service_fields():
                return register_sensor(user, fields)
        except ValidationError as error:  # the department a department may not name
            raise problems_of(error) from None

    def _write(user, sensor: Sensor, feature: Feature, merge: bool) -> Sensor:
        _owned(user, sensor)
        properties = dict(feature.properties)
        _fixed_unchanged(sensor, properties)
        data = {
            name: properties[name]
            for name in ("name", "status", "properties")
            if name in properties and properties[name] is not None
        }
        if merge and "properties" in properties:
            data["properties"] = merge_patch(sensor.properties, properties["properties"] or {})
        fields = _validated(SensorUpdateSerializer(data={**data, **_point(feature)}, partial=True))
        with service_fields():
            return registry.update_sensor(
                sensor,
                location=fields.get("location"),
                properties=fields.get("properties"),
                name=fields.get("name"),
                status=fields.get("status"),
                user=user,
            )

    def replace(user, sensor: Sensor, feature: Feature) -> Sensor:
        return _write(user, sensor, feature, merge=False)

    def update(user, sensor: Sensor, feature: Feature) -> Sensor:
        return _write(user, sensor, feature, merge=True)

    def delete(user, sensor: Sensor) -> None:
        _owned(user, sensor)
        registry.delete_sensor(sensor)

    return Editor(
        roles=SENSOR_WRITERS,
        delete_roles=DISTRICT_ROLES,
        create=create,
        replace=replace,
        update=update,
        delete=delete,
        version=version,
        writable=WRITABLE,
        required=REQUIRED,
    )


def version(sensor: Sensor) -> str:
    """The save time, plus what ingest and re-keying change without a save."""
    return (
        f"{sensor.pk}:{sensor.updated_at.isoformat()}:{sensor.status}:{sensor.grid_id}:"
        f"{sensor.last_seen_at}:{sensor.latest_at}"
    )
