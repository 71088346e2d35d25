"""What buildings, units and standard addresses share: a place keyed to the grid its point
lies in on write, re-keyed by a boundary change (grids.keyed), with a lifetime."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.db import models
from django.db.models import Q

from grids import scoping
from grids.models.tree import today


class PlaceQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(scoping.place_q(user))

    def unassigned(self):
        """Kept but flagged: the point fell in no grid when it was written."""
        return self.filter(grid__isnull=True)


class AddressQuerySet(PlaceQuerySet):
    def visible_to(self, user):
        return self.filter(scoping.address_q(user))


class LivingPlaceQuerySet(PlaceQuerySet):
    """Places with a lifetime [registered_on, removed_on)."""

    def existing_on(self, on: dt.date | None = None):
        on = on or today()
        return self.filter(Q(removed_on__isnull=True) | Q(removed_on__gt=on), registered_on__lte=on)
