"""Need photos are as private as their need (grids.media serves them)."""

from __future__ import annotations

from needs.models import Need, NeedPhoto


def may_see_photo(user, name: str) -> bool:
    return NeedPhoto.objects.filter(image=name, need__in=Need.objects.visible_to(user)).exists()
