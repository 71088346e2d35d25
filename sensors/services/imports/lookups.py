"""The records an import's rows refer to: the district, departments and gateways by code, and
the registered devices the file may correct."""

from __future__ import annotations

from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Level, Region
from grids.problems import Problem
from grids.services import imports as grid_imports
from grids.services.imports import ImportReport
from sensors.models import Sensor


def district_id_for(district, user, report: ImportReport) -> int | None:
    if isinstance(district, Region):
        return district.pk
    if isinstance(district, str) and district:
        found = Region.objects.filter(code=district, level=Level.DISTRICT).first()
        if found is None:
            report.problems.append(
                Problem(
                    "unknown_district",
                    _("no district '%(code)s'") % {"code": district},
                    field="district",
                )
            )
            return None
        return found.pk
    if user is not None and not scoping.sees_everything(user):
        found = scoping.user_district(user)
        if found is None:
            report.problems.append(Problem("no_district", _("you work in no district")))
        return found
    return None


def _unknown(name: str) -> str:
    if name == "department":
        return _("no department '%(value)s'")
    return _("no gateway '%(value)s'")


def ids_by_code(frame, columns, name, model, district_id, rows, codes, problems) -> list:
    """Ids of the departments or gateways named by code (of the district when known)."""
    n = len(frame)
    if name not in columns:
        return [None] * n
    values = grid_imports.text(frame[columns[name]], number=True).tolist()
    wanted = {v for v in values if v}
    found = model.objects.filter(code__in=wanted)
    if district_id is not None:
        found = found.filter(district=district_id)
    ids = dict(found.values_list("code", "pk"))
    out = []
    for i, value in enumerate(values):
        if value and value not in ids:
            message = _unknown(name) % {"value": value}
            problems.add(i, rows[i], f"unknown_{name}", message, name, codes[i])
        out.append(ids.get(value) if value else None)
    return out


def correctable(codes, sensor_types, user, rows, problems) -> dict[str, int]:
    """Registered devices of the file's codes that the importer may correct: visible to the
    user and of the same type (a device's type is not changed by a file)."""
    registered = Sensor.objects.filter(code__in=[c for c in codes if c])
    visible = (
        set(registered.visible_to(user).values_list("pk", flat=True)) if user is not None else None
    )
    found = {
        code: (pk, type_id) for code, pk, type_id in registered.values_list("code", "pk", "type_id")
    }
    out = {}
    for i, code in enumerate(codes):
        if code not in found or sensor_types[i] is None:
            continue
        pk, type_id = found[code]
        if visible is not None and pk not in visible:
            problems.add(
                i,
                rows[i],
                "duplicate_code",
                _("a device %(code)s is registered outside your jurisdiction") % {"code": code},
                "code",
                code,
            )
        elif type_id != sensor_types[i].pk:
            problems.add(
                i,
                rows[i],
                "type_change",
                _("device %(code)s is registered with another type; a file does not change it")
                % {"code": code},
                "type",
                code,
            )
        else:
            out[code] = pk
    return out
