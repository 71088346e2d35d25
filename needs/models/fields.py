"""Field shapes the needs models repeat."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def user_link() -> models.ForeignKey:
    """The account that did a step (raised, reviewed, dispatched…): the record outlives the
    account (SET_NULL), and User gets no reverse accessor from the needs app ("+")."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
