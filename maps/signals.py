"""Tile invalidation: a change to a model raises the version of every layer built from it."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from grids.models import Grid, GridBoundary, Household, Region, RegionBoundary
from grids.signals import data_changed
from maps import registry
from maps.tiles import invalidate_layers


def invalidate(sender, **kwargs) -> None:
    layers = [layer.name for layer in registry.depending_on(sender)]
    if layers:
        invalidate_layers(layers)


def connect() -> None:
    # Bulk writes (COPY, set-based re-assignment) send data_changed; ORM saves (admin,
    # API) are caught by post_save and post_delete.
    data_changed.connect(invalidate, dispatch_uid="maps.invalidate")
    for model in (Household, Grid, GridBoundary, Region, RegionBoundary):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"maps.save.{model.__name__}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"maps.del.{model.__name__}")
