"""The pages where users work on incidents (#4): the queues, one incident with its timeline
and its steps, the report form. Data comes only through the scoped querysets here and the
API (/api/incidents/...) from the pages' scripts."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from grids.basemap import basemap_layers
from grids.models import GridBoundary
from incidents.models import (
    Action,
    Category,
    Incident,
    IncidentEvent,
    Level,
    Priority,
    Source,
    Status,
)
from incidents.services.transitions import LADDER, LEVEL_ROLE, RULES, allowed_actions

PAGE_SIZE = 25
TABS = {
    "mine": _("Waiting on me"),
    "overdue": _("Overdue"),
    "whistled": _("Whistled"),
    "reported": _("Reported by me"),
    "open": _("All open"),
}
WHISTLE_ROLES = {"department", "street_centre", "district_centre"}
# The inputs each step's form asks for (the API's StepSerializer fields).
STEP_INPUTS = {
    Action.DISPATCH: ("department_optional", "comment"),
    Action.WHISTLE: ("department", "whistle_class", "comment"),
    Action.TRANSFER: ("department", "comment"),
    Action.SEND_BACK: ("to_level", "comment"),
    Action.ASSESS: ("score", "comment"),
    Action.MERGE: ("target", "comment"),
}


def tabs_for(user) -> list[tuple[str, str]]:
    shown = [k for k in TABS if k != "whistled"]
    if user.is_superuser or user.role in WHISTLE_ROLES:
        shown.insert(2, "whistled")
    return [(key, TABS[key]) for key in shown]


def _queue(user, tab: str):
    incidents = Incident.objects.visible_to(user)
    if tab == "mine":
        return incidents.held_by(user)
    if tab == "overdue":
        return incidents.overdue()
    if tab == "whistled":
        return incidents.whistled_for(user)
    if tab == "reported":
        return incidents.filter(reporter=user)
    return incidents.open()


@login_required
def incident_list(request):
    """The user's queues: waiting on me, overdue, whistled, reported by me, all open."""
    user = request.user
    tabs = tabs_for(user)
    tab = request.GET.get("queue") or "mine"
    if tab not in dict(tabs):
        tab = "mine"
    incidents = _queue(user, tab)
    filters = {
        "status": request.GET.get("status") or "",
        "category": request.GET.get("category") or "",
        "priority": request.GET.get("priority") or "",
    }
    if filters["status"] in Status.values:
        incidents = incidents.filter(status=filters["status"])
    if filters["category"]:
        incidents = incidents.filter(category__code=filters["category"])
    if filters["priority"] in Priority.values:
        incidents = incidents.filter(priority=filters["priority"])
    incidents = incidents.select_related("category", "grid", "department").order_by(
        "-reported_at", "-id"
    )
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in filters.items() if v} | {"queue": tab}
    return render(
        request,
        "incidents/list.html",
        {
            "tabs": tabs,
            "tab": tab,
            "page": page,
            "filters": filters,
            "query": urlencode(query),
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "categories": Category.objects.filter(active=True).values_list("code", "name"),
        },
    )


def _send_back_levels(incident: Incident) -> list[tuple[str, str]]:
    if incident.dispatcher_level not in LADDER:
        return []
    levels = LADDER[LADDER.index(incident.dispatcher_level) :]
    return [
        (level, Level(level).label)
        for level in levels
        if getattr(incident, LEVEL_ROLE[level][2]) is not None
    ]


@login_required
def incident_detail(request, pk: int):
    """One incident: its fields, its timeline, its place and the steps the user may take."""
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user)
        .select_related("category", "grid", "department", "whistle_class", "reporter")
        .prefetch_related(
            Prefetch(
                "events",
                IncidentEvent.objects.select_related("actor", "department").prefetch_related(
                    "photos"
                ),
            ),
            "photos",
        ),
        pk=pk,
    )
    outline = (
        GridBoundary.objects.current().filter(grid=incident.grid_id).values_list("geom", flat=True)
    )
    outline = outline.first() if incident.grid_id else None
    actions = [
        {
            "action": action,
            "label": Action(action).label,
            "inputs": STEP_INPUTS.get(action, ("comment",)),
            "needs_reason": RULES[action].needs_reason,
        }
        for action in allowed_actions(request.user, incident)
    ]
    config = {
        "id": incident.pk,
        "version": incident.version,
        "point": [incident.location.x, incident.location.y],
        "grid": json.loads(outline.geojson) if outline is not None else None,
        "basemap": basemap_layers(),
        "urls": {
            "steps": f"/api/incidents/{incident.pk}/steps/",
            "photos": f"/api/incidents/{incident.pk}/photos/",
            "departments": "/api/departments/",
            "whistleClasses": "/api/whistle-classes/",
        },
    }
    photos_by_event: dict[int | None, list] = {}
    for photo in incident.photos.all():
        photos_by_event.setdefault(photo.event_id, []).append(photo)
    events = [
        (
            event,
            photos_by_event.get(event.pk, []),
            event.data.get("satisfaction") or event.data.get("department_score"),
        )
        for event in incident.events.all()
    ]
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "events": events,
            "loose_photos": photos_by_event.get(None, []),
            "actions": actions,
            "send_back_levels": _send_back_levels(incident),
            "config": config,
        },
    )


@login_required
def incident_new(request):
    """The report form (上报): pick the point on the map, describe, send."""
    config = {
        "urls": {
            "report": "/api/incidents/",
            "nearby": "/api/incidents/nearby/",
            "categories": "/api/incident-categories/",
            "grids": "/api/grids/",
            "incident": "/incidents/{id}/",
        },
    }
    return render(
        request,
        "incidents/new.html",
        {
            "config": config,
            "priorities": Priority.choices,
            "sources": Source.choices,
            "default_source": Source.PATROL,
        },
    )
