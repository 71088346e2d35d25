"""A district's own sensor types: written by its centre, checked like the built-in ones.

A type's JSON Schemas must themselves be valid; a type that already has devices keeps its
role (fire response and the partial indexes go by the role copied onto each device) and may
only take a properties schema its devices still satisfy.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids import scoping
from grids.problems import Problem, ProblemsError
from sensors.models import Role, Sensor, SensorType
from sensors.services.registry import ROLE_PROPERTIES, check_schema, schema_problems

# The fields a district may set on its own types.
EDITABLE = (
    "name",
    "role",
    "properties_schema",
    "readings_schema",
    "symbol",
    "colour",
    "offline_after",
    "active",
)


class TypeRefused(ProblemsError):
    """A change a type may not take: 403 for a built-in type or another district's, 409
    when its devices stand in the way."""

    def __init__(self, code: str, message: str, field_name: str | None, status: int):
        super().__init__([Problem(code, message, field=field_name)])
        self.status_code = status


def _check(fields: dict, current: SensorType | None = None) -> None:
    if "role" in fields and fields["role"] not in Role.values:
        raise ProblemsError(
            [
                Problem(
                    "invalid_role",
                    _("role is one of %(values)s") % {"values": ", ".join(Role.values)},
                    field="role",
                )
            ]
        )
    for name in ("properties_schema", "readings_schema"):
        if name in fields:
            if not isinstance(fields[name], dict):
                raise ProblemsError(
                    [Problem("invalid_schema", "a JSON Schema is an object", field=name)]
                )
            check_schema(fields[name], name)
    role = fields.get("role", current.role if current else Role.OTHER)
    schema = fields.get("properties_schema", current.properties_schema if current else {})
    required = set(schema.get("required") or ())
    declared = schema.get("properties") or {}
    problems = [
        Problem(
            "role_needs_property",
            _("a %(role)s type must require the number '%(name)s'") % {"role": role, "name": name},
            field=f"properties_schema.properties.{name}",
        )
        for name in ROLE_PROPERTIES.get(role, ())
        if name not in required
        or (declared.get(name) or {}).get("type") not in ("number", "integer")
    ]
    if problems:
        raise ProblemsError(problems)


def _duplicate_code(code: str) -> ProblemsError:
    return ProblemsError(
        [
            Problem(
                "duplicate_code",
                _("a sensor type '%(code)s' exists already") % {"code": code},
                field="code",
            )
        ]
    )


def create_type(*, code: str, user, **fields) -> SensorType:
    """A type of the user's district (an administrator's type is built in: seen by all)."""
    _check(fields)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ProblemsError(
            [
                Problem("unknown_field", _("not a type field"), field=name)
                for name in sorted(unknown)
            ]
        )
    if SensorType.objects.filter(code=code).exists():
        raise _duplicate_code(code)
    district = None if scoping.sees_everything(user) else scoping.user_district(user)
    if district is None and not scoping.sees_everything(user):
        raise TypeRefused("no_district", "you work in no district", None, 403)
    try:
        # A concurrent creation of the same code passes the check above: same refusal.
        with transaction.atomic():
            return SensorType.objects.create(
                code=code, district_id=district, builtin=district is None, **fields
            )
    except IntegrityError:
        if not SensorType.objects.filter(code=code).exists():
            raise
        raise _duplicate_code(code) from None


def may_change(sensor_type: SensorType, user) -> bool:
    if scoping.sees_everything(user):
        return True
    return (
        not sensor_type.builtin
        and sensor_type.district_id is not None
        and sensor_type.district_id == scoping.user_district(user)
    )


@transaction.atomic
def update_type(sensor_type: SensorType, *, user, **fields) -> SensorType:
    """Change a type; its devices must still fit the new properties schema."""
    if not may_change(sensor_type, user):
        raise TypeRefused(
            "read_only_type", "built-in types and other districts' types are read-only", None, 403
        )
    _check(fields, sensor_type)
    sensor_type = SensorType.objects.select_for_update().get(pk=sensor_type.pk)
    devices = Sensor.objects.filter(type=sensor_type)
    if "role" in fields and fields["role"] != sensor_type.role and devices.exists():
        raise TypeRefused(
            "type_in_use",
            f"{devices.count()} devices are of this type: its role cannot change",
            "role",
            409,
        )
    for name, value in fields.items():
        setattr(sensor_type, name, value)
    if "properties_schema" in fields:
        problems = []
        # Validated in pages: a type may have tens of thousands of devices.
        for code, properties in devices.values_list("code", "properties").iterator(2000):
            for problem in schema_problems(sensor_type, properties, feature=code):
                problems.append(problem)
            if len(problems) >= 20:
                break
        if problems:
            error = ProblemsError(
                [
                    Problem(
                        "schema_breaks_devices",
                        f"device {p.feature}: {p.message}",
                        field="properties_schema",
                        feature=p.feature,
                    )
                    for p in problems
                ]
            )
            error.status_code = 409
            raise error
    sensor_type.save()
    return sensor_type
