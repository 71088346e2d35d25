"""Incident photos are as private as their incident (grids.media serves them)."""

from __future__ import annotations

from incidents.models import Incident, IncidentPhoto


def may_see_photo(user, name: str) -> bool:
    return IncidentPhoto.objects.filter(
        image=name, incident__in=Incident.objects.visible_to(user)
    ).exists()
