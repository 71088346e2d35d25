"""Writing units (实有单位): checked field by field, the type looked up in the catalogue held
as data, keyed to their grid on write by their point."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids.models import Unit, UnitType, new_client_key, today
from grids.problems import Problem, ProblemsError
from grids.services.basedata.keying import (
    Checks,
    announce_dates,
    announce_past,
    key_point,
    resent,
)
from grids.signals import announce

SUBJECT = "units"
FIELDS = (
    "name",
    "type",
    "credit_code",
    "legal_person",
    "contact_phone",
    "employees",
    "address",
    "standard_address",
    "building",
    "location",
    "registered_on",
    "removed_on",
)
MAX_EMPLOYEES = 1_000_000

# GB 32100-2015: 18 characters from 31 (no I, O, Z, S, V), the last a check character.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE = re.compile(rf"^[{CREDIT_CHARS}]{{18}}$")
PHONE = re.compile(r"^\+?[\d\- ]{7,20}$")


def credit_code_valid(code: str) -> bool:
    if not CREDIT_CODE.match(code):
        return False
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code, CREDIT_WEIGHTS, strict=False))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[-1]


class UnitTypes:
    """The unit types as they stand when it is made (one query), by code and by name."""

    def __init__(self):
        self.types = list(UnitType.objects.all())
        self.by_key = {t.code: t for t in self.types} | {t.name: t for t in self.types}

    def get(self, value) -> UnitType | None:
        if isinstance(value, UnitType):
            return value
        return self.by_key.get(str(value or "").strip())

    def names(self) -> str:
        return "、".join(f"{t.name} ({t.code})" for t in self.types if t.active)


def check_unit(
    fields: dict, *, row: int | None = None, types: UnitTypes | None = None, carried=None
) -> tuple[dict, list[Problem]]:
    """A unit's fields checked and brought to the stored form (an importer calls it per row
    with one UnitTypes): (cleaned fields, problems). `type` is a UnitType, its code or its
    name; a retired type stays only on a unit that has it (`carried`)."""
    fields = {name: fields.get(name) for name in FIELDS if name in fields}
    checks = Checks(row)
    checks.text(fields, "name", 200, required=True)
    checks.text(fields, "credit_code", 18)
    checks.text(fields, "legal_person", 50)
    checks.text(fields, "contact_phone", 20)
    checks.text(fields, "address", 255)
    checks.integer(fields, "employees", 0, MAX_EMPLOYEES)
    checks.point(fields)
    checks.dates(fields)
    types = types or UnitTypes()
    value = fields.get("type")
    unit_type = types.get(value)
    if unit_type is None:
        checks.add(
            "unknown_unit_type",
            _("no unit type %(value)s; the types are: %(names)s")
            % {"value": value, "names": types.names()},
            "type",
            value,
        )
    elif not unit_type.active and unit_type != carried:
        checks.add(
            "retired_unit_type",
            _("the unit type %(name)s is no longer in use") % {"name": unit_type.name},
            "type",
            value,
        )
    fields["type"] = unit_type
    code = fields["credit_code"].upper()
    fields["credit_code"] = code
    if code and not credit_code_valid(code):
        checks.add(
            "invalid_credit_code",
            _("not a unified social credit code: 18 characters with a valid check character"),
            "credit_code",
            code,
        )
    phone = fields["contact_phone"]
    if phone and not PHONE.match(phone):
        # The value is personal: the problem names the field, not the number.
        checks.add("invalid_phone", _("not a phone number"), "contact_phone")
    return fields, checks.problems


def create_unit(*, client_key: str | None = None, user=None, **fields) -> tuple[Unit, bool]:
    """Create a unit, or return the one already sent with the same client key: (unit,
    created). A bad field raises ProblemsError naming it."""
    if client_key and (existing := Unit.objects.filter(client_key=client_key).first()):
        return resent(Unit, existing, user), False
    fields, problems = check_unit(fields)
    if problems:
        raise ProblemsError(problems)
    try:
        with transaction.atomic():
            grid = key_point(fields["location"], user)
            unit = Unit.objects.create(
                **fields, grid=grid, client_key=client_key or new_client_key()
            )
    except IntegrityError:
        if client_key and (existing := Unit.objects.filter(client_key=client_key).first()):
            return resent(Unit, existing, user), False
        raise
    announce(Unit)
    announce_past(SUBJECT, unit.registered_on)
    return unit, True


def update_unit(unit: Unit, *, user=None, **changes) -> Unit:
    """Change a unit's fields; a new point re-keys it."""
    before = {name: getattr(unit, name) for name in FIELDS}
    fields, problems = check_unit({**before, **changes}, carried=unit.type)
    if problems:
        raise ProblemsError(problems)
    with transaction.atomic():
        if fields["location"] != before["location"]:
            unit.grid = key_point(fields["location"], user)
        for name, value in fields.items():
            setattr(unit, name, value)
        unit.save()
    announce(Unit)
    announce_dates(SUBJECT, before, fields)
    return unit


def remove_unit(unit: Unit, on: dt.date | None = None, *, user=None) -> Unit:
    """The unit no longer exists from `on` (default today); kept for past figures."""
    return update_unit(unit, user=user, removed_on=on or today())
