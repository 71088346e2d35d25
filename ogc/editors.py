"""Part 4 for households: the OGC writes go through the same serializer checks and services
as /api/households/ (keyed to the grid on write, the jurisdiction check, idempotent client
keys). A household is never deleted: DELETE records the day it was removed, and it then no
longer exists in the current state the collection shows (its history stays for past dates).

The view (ogc/views/edits.py) has already checked the geometry (type, CRS, lon/lat range),
refused unknown properties and changed read-only ones, and holds the row locked; these
functions get a Feature whose properties are the writable ones the client sent.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers

from grids.api.serializers import HouseholdSerializer
from grids.api.views import WRITER_ROLES
from grids.models import Household, today
from grids.services import households
from grids.signals import announce
from ogc.edits import problems_of, service_fields
from ogc.registry import Editor, Feature

WRITABLE = ("address", "client_key", "registered_on")
REQUIRED = ("address",)


def _checked(feature: Feature, instance: Household | None, partial: bool) -> dict:
    """The properties checked by the API's own serializer: address length, the client key
    that cannot change, a registration not in the future."""
    data = {name: feature.properties[name] for name in WRITABLE if name in feature.properties}
    if feature.geometry is not None:
        data |= {"lon": feature.geometry.x, "lat": feature.geometry.y}
    serializer = HouseholdSerializer(instance, data=data, partial=partial)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as error:
        raise problems_of(error) from None
    return dict(serializer.validated_data)


def create(user, feature: Feature) -> Household:
    """A new household, keyed to its grid. A resend with the same client key returns the
    household the first one made, marked `resent` (the view answers 200, not 201)."""
    fields = _checked(feature, None, partial=False)
    with service_fields():
        household, created = households.create_household(
            address=fields["address"],
            location=fields["location"],
            client_key=fields.get("client_key"),
            registered_on=fields.get("registered_on"),
            user=user,
        )
    household.resent = not created
    return household


@transaction.atomic
def _write(user, household: Household, fields: dict) -> Household:
    location = fields.pop("location", None)
    if location is not None:
        # Refuse a move out of the jurisdiction before anything is saved (as the API does).
        households.check_in_jurisdiction(user, households.grid_for_point(location))
    fields.pop("client_key", None)  # equal to the stored one: the serializer refuses others
    if fields:
        for name, value in fields.items():
            setattr(household, name, value)
        household.save(update_fields=[*fields, "updated_at"])
        announce(Household)
    if location is not None:
        households.move_household(household, location, user=user)
    return household


def replace(user, household: Household, feature: Feature) -> Household:
    """PUT: the geometry and the required properties must be present (the view checks);
    the optional ones a client leaves out keep their values, since neither has an empty
    value (the client key is fixed, a registration day is always known)."""
    return _write(user, household, _checked(feature, household, partial=False))


def update(user, household: Household, feature: Feature) -> Household:
    """PATCH (a merge patch): only the members sent change; the geometry may be one."""
    return _write(user, household, _checked(feature, household, partial=True))


def delete(user, household: Household) -> None:
    """Households are history: removal is the day they stopped existing, never a DELETE.
    The figures' row trigger sees the update (grids.StaleFigures), the tiles the signal."""
    household.removed_on = today()
    household.save(update_fields=["removed_on", "updated_at"])
    announce(Household)


def version(household: Household) -> str:
    """What the ETag is made of: the save time, plus what changes without a save (a
    boundary change re-keys the grid, the resident services recount the members)."""
    return (
        f"{household.pk}:{household.updated_at.isoformat()}:{household.grid_id}:"
        f"{household.member_count}:{household.removed_on}"
    )


HOUSEHOLDS = Editor(
    roles=frozenset(WRITER_ROLES),
    create=create,
    replace=replace,
    update=update,
    delete=delete,
    version=version,
    writable=WRITABLE,
    required=REQUIRED,
)
