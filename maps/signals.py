"""Tile invalidation: a change to a model raises the version of every layer built from it."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save

from grids.signals import data_changed
from maps import fastpath, registry
from maps.tiles import invalidate_layers


def invalidate(sender, **kwargs) -> None:
    layers = [layer.name for layer in registry.depending_on(sender)]
    if layers:
        invalidate_layers(layers)


def connect() -> None:
    # Bulk writes (COPY, set-based re-assignment) send data_changed; ORM saves (admin,
    # API) are caught by post_save and post_delete. Those are connected for every sender:
    # apps register their layers after this runs (their ready() comes later), and a layer's
    # `depends_on` is all it takes for its models to invalidate it.
    data_changed.connect(invalidate, dispatch_uid="maps.invalidate")
    post_save.connect(invalidate, dispatch_uid="maps.save")
    post_delete.connect(invalidate, dispatch_uid="maps.delete")
    # A deactivated user's signed tile URLs stop working before they expire, and so do those
    # of a scope the user was moved out of.
    pre_save.connect(
        fastpath.user_saving, sender=settings.AUTH_USER_MODEL, dispatch_uid="maps.tile-holders"
    )
    post_save.connect(
        fastpath.user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="maps.tile-holders"
    )
