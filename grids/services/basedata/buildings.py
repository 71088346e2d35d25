"""Writing buildings (实有房屋): checked field by field, keyed to their grid on write by the
point (a footprint's point on surface when only the footprint is given)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids.models import Building, BuildingUse, Household, new_client_key, today
from grids.problems import Problem, ProblemsError
from grids.services.basedata.keying import (
    Checks,
    announce_dates,
    announce_past,
    key_point,
    resent,
)
from grids.signals import announce

SUBJECT = "buildings"
FIELDS = (
    "code",
    "name",
    "footprint",
    "location",
    "floors",
    "use",
    "built_year",
    "address",
    "registered_on",
    "removed_on",
)
MAX_FLOORS = 200
EARLIEST_YEAR = 1600


def check_building(fields: dict, *, row: int | None = None) -> tuple[dict, list[Problem]]:
    """A building's fields checked and brought to the stored form, without touching the
    database (an importer calls it per row): (cleaned fields, problems). The location is the
    footprint's point on surface when only a footprint is given: a centroid can fall outside
    an L-shaped footprint, and so in the neighbouring grid."""
    fields = {name: fields.get(name) for name in FIELDS if name in fields}
    checks = Checks(row)
    checks.text(fields, "code", 64, required=True)
    checks.text(fields, "name", 100)
    checks.text(fields, "address", 255)
    checks.footprint(fields)
    bad_footprint = any(problem.field == "footprint" for problem in checks.problems)
    if fields.get("location") is None and fields.get("footprint") is not None and not bad_footprint:
        fields["location"] = fields["footprint"].point_on_surface
    # A bad footprint is the problem to report, not the point it could not give.
    checks.point(fields, required=not bad_footprint)
    checks.integer(fields, "floors", 1, MAX_FLOORS)
    checks.integer(fields, "built_year", EARLIEST_YEAR, today().year)
    fields["use"] = fields.get("use") or BuildingUse.RESIDENTIAL
    checks.choice(fields, "use", BuildingUse)
    checks.dates(fields)
    return fields, checks.problems


def _code_taken(code: str, exclude: int | None = None) -> list[Problem]:
    taken = Building.objects.filter(code=code).exclude(pk=exclude)
    if not taken.exists():
        return []
    return [
        Problem(
            "code_taken",
            _("another building has the code %(code)s") % {"code": code},
            field="code",
            value=code,
        )
    ]


def create_building(*, client_key: str | None = None, user=None, **fields) -> tuple[Building, bool]:
    """Create a building, or return the one already sent with the same client key: (building,
    created). Fields as check_building; a bad field raises ProblemsError naming it."""
    if client_key and (existing := Building.objects.filter(client_key=client_key).first()):
        return resent(Building, existing, user), False
    fields, problems = check_building(fields)
    if problems:
        raise ProblemsError(problems)
    try:
        with transaction.atomic():
            grid = key_point(fields["location"], user)
            if problems := _code_taken(fields["code"]):
                raise ProblemsError(problems)
            building = Building.objects.create(
                **fields, grid=grid, client_key=client_key or new_client_key()
            )
    except IntegrityError:
        if client_key and (existing := Building.objects.filter(client_key=client_key).first()):
            return resent(Building, existing, user), False
        if problems := _code_taken(fields["code"]):
            raise ProblemsError(problems) from None
        raise
    announce(Building)
    announce_past(SUBJECT, building.registered_on)
    return building, True


def update_building(building: Building, *, user=None, **changes) -> Building:
    """Change a building's fields; a new point or footprint re-keys it. A footprint given
    without a point moves the point to the new footprint's point on surface."""
    if "footprint" in changes and "location" not in changes:
        changes["location"] = None
    before = {name: getattr(building, name) for name in FIELDS}
    fields, problems = check_building({**before, **changes})
    if problems:
        raise ProblemsError(problems)
    with transaction.atomic():
        if fields["location"] != before["location"]:
            building.grid = key_point(fields["location"], user)
        if fields["code"] != before["code"] and (
            problems := _code_taken(fields["code"], building.pk)
        ):
            raise ProblemsError(problems)
        for name, value in fields.items():
            setattr(building, name, value)
        building.save()
    announce(Building)
    announce_dates(SUBJECT, before, fields)
    return building


def remove_building(building: Building, on: dt.date | None = None, *, user=None) -> Building:
    """The building no longer exists from `on` (default today); kept for past figures."""
    return update_building(building, user=user, removed_on=on or today())


def link_household(household: Household, *, building=None, standard_address=None) -> Household:
    """A household lives in a building and at a standard address (either may be None to
    unlink). The household's grid stays its own point's: a building on a grid edge does not
    move its households."""
    household.building = building
    household.standard_address = standard_address
    household.save(update_fields=["building", "standard_address", "updated_at"])
    announce(Household)
    return household
