"""The two public posts, each counted and written in one transaction: the rate check's
advisory lock holds until the row it counts is committed (needs.services.public), so the
HTML form and the API cannot count differently. Apart from public.py because registering
needs needs.services.providers, which itself imports public (phones)."""

from __future__ import annotations

from django.db import transaction

from grids.models import Grid
from needs.models import Need, NeedSource, Provider
from needs.services import intake, providers, public


def raise_public_need(submitter: str, data: dict, photos: list, grid: Grid) -> Need:
    """A resident's need from the grid's QR: RateLimited when the address has used up its
    hour or day, Refused for what intake refuses."""
    with transaction.atomic():
        public.check_rate(submitter, "need")
        return intake.raise_need(
            None, data, photos, source=NeedSource.PUBLIC, grid=grid, submitter=submitter
        )


def register_public(submitter: str, data: dict, grid: Grid) -> Provider:
    """双报到 with the grid's community: RateLimited or Refused as raise_public_need."""
    data = {**data, "community": grid.community}
    with transaction.atomic():
        public.check_rate(submitter, "registration")
        return providers.register(data, submitter=submitter)
