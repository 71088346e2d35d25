"""The live events of incidents (issue #16): a new incident and every change of its step,
status, holder or assignment reach the open maps, queues and screens of the users who may
see it. Called inside the writer's transaction; sent on commit."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import translation

from incidents.models import Incident, IncidentEvent
from live.services import publish

LAYERS = ("incidents",)


def _object(incident: Incident) -> dict:
    # Written in the platform's language: the event goes to many users, not to the writer.
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "id": incident.pk,
            "title": incident.title,
            "status": incident.status,
            "status_label": str(incident.get_status_display()),
            "level": incident.level,
            "category": incident.category.code,
            "category_name": incident.category.name,
            "grid": incident.grid.code if incident.grid_id else None,
            "lon": round(incident.location.x, 6),
            "lat": round(incident.location.y, 6),
            "url": reverse("incident-detail", args=[incident.pk]),
        }


def _departments(incident: Incident) -> set[int]:
    """Departments that may see it (Incident.objects.visible_to): the one holding it, those
    it was ever dispatched or whistled to, and that of its reporter."""
    found = set(
        IncidentEvent.objects.filter(incident=incident, department__isnull=False)
        .values_list("department", flat=True)
        .distinct()
    )
    if incident.department_id:
        found.add(incident.department_id)
    if incident.reporter_id:
        found.update(
            Incident.objects.filter(
                Q(pk=incident.pk) & Q(reporter__department__isnull=False)
            ).values_list("reporter__department", flat=True)
        )
    return found


def published(incident: Incident, kind: str) -> None:
    publish(
        kind,
        _object(incident),
        layers=LAYERS,
        rule="incident",
        grid=incident.grid_id,
        community=incident.community_id,
        street=incident.street_id,
        district=incident.district_id,
        departments=_departments(incident),
    )


def created(incident: Incident) -> None:
    published(incident, "incident.created")


def changed(incident: Incident) -> None:
    published(incident, "incident.changed")
