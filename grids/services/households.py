"""Writing households and residents: every household is keyed to its grid when written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce, Now
from django.utils.translation import gettext as _

from grids import scoping, sql
from grids.changes import data_changed_since
from grids.models import Grid, Household, Resident, new_client_key, today
from grids.problems import Problem, ProblemsError
from grids.services.basedata.tags import TagCatalogue
from grids.signals import announce


def grid_for_point(point: Point, on: dt.date | None = None) -> Grid | None:
    """The governance grid a point lies in, or None (the point is then kept and flagged)."""
    return Grid.objects.containing(point, on=on).first()


def check_in_jurisdiction(user, grid: Grid | None) -> None:
    if user is None or scoping.sees_everything(user):
        return
    if grid is None or not Grid.objects.visible_to(user).filter(pk=grid.pk).exists():
        raise ProblemsError(
            [
                Problem(
                    "outside_jurisdiction",
                    _("the location is outside your jurisdiction"),
                    field="location",
                )
            ]
        )


def _resent(existing: Household, user) -> Household:
    """A resend answers with the household it made; a key another jurisdiction's household
    already carries is a conflict, never a way to learn about that household."""
    if user is not None and not Household.objects.visible_to(user).filter(pk=existing.pk).exists():
        raise ProblemsError(
            [
                Problem(
                    "key_conflict",
                    _("this client key is already in use"),
                    field="client_key",
                )
            ]
        )
    return existing


def create_household(
    *,
    address: str,
    location: Point,
    client_key: str | None = None,
    registered_on: dt.date | None = None,
    user=None,
) -> tuple[Household, bool]:
    """Create a household, or return the one already sent with the same client key.

    Returns (household, created). A resend from a phone with the same key is not duplicated,
    even when two copies race.
    """
    if client_key:
        existing = Household.objects.filter(client_key=client_key).first()
        if existing is not None:
            return _resent(existing, user), False
    try:
        with transaction.atomic():
            # The grid lookup and the insert under the shared tree lock: a boundary change
            # cannot re-key in between (grids/sql/tree.py, TREE_LOCK).
            sql.lock_tree(shared=True)
            grid = grid_for_point(location)
            check_in_jurisdiction(user, grid)
            household = Household.objects.create(
                address=address,
                location=location,
                grid=grid,
                client_key=client_key or new_client_key(),
                registered_on=registered_on or today(),
            )
    except IntegrityError:
        if client_key and (existing := Household.objects.filter(client_key=client_key).first()):
            return _resent(existing, user), False
        raise
    announce(Household)
    # Registered on a past day: the figures kept for the days since then change.
    data_changed_since("households", household.registered_on)
    return household, True


@transaction.atomic
def move_household(household: Household, location: Point, *, user=None) -> Household:
    sql.lock_tree(shared=True)
    grid = grid_for_point(location)
    check_in_jurisdiction(user, grid)
    household.location = location
    household.grid = grid
    household.save(update_fields=["location", "grid", "updated_at"])
    announce(Household)
    return household


def refresh_member_counts(household_ids: Iterable[int] | None = None) -> int:
    """Store each household's number of residents (summed by the roll-ups without a join).
    Only rows whose count changes are written, with a new save time: the field app's pull finds
    changed households by it, so a recount after a resident deleted in the admin or loaded by
    COPY reaches the phones. Returns the number of households changed."""
    households = Household.objects.all()
    if household_ids is not None:
        households = households.filter(pk__in=list(household_ids))
    members = (
        Resident.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    count = Coalesce(Subquery(members), 0)
    return households.exclude(member_count=count).update(member_count=count, updated_at=Now())


@transaction.atomic
def add_residents(household: Household, residents: Sequence[dict]) -> list[Resident]:
    objs = [Resident(household=household, **fields) for fields in residents]
    catalogue = TagCatalogue()
    for obj in objs:
        obj.full_clean(exclude=["household"])
        # Tags are codes of a catalogue held as data, not choices: checked here.
        obj.tags, obj.tag_levels = catalogue.clean(obj.tags, obj.tag_levels)
    created = Resident.objects.bulk_create(objs)
    refresh_member_counts([household.pk])
    announce(Household)
    return created
