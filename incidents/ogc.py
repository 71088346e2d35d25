"""The incidents of OGC API – Features (issue #19): read-only points.

Rows are `Incident.objects.visible_to(user)`. Nothing that names a person is published: no
reporter, no description (free text that often carries names and phone numbers), no
satisfaction ratings; incidents change through their steps in the API, never here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Level, Priority, Source, Status
from ogc.collections import moment_filter, values_of
from ogc.registry import Collection, Interval, Property, register


def incidents(user):
    return Incident.objects.visible_to(user)


def reported_in(queryset, interval: Interval, _user):
    """An instant: reported on that local day; an interval: reported within it."""
    return queryset.filter(moment_filter("reported_at", interval))


INCIDENTS = register(
    Collection(
        id="incidents",
        title=_("incidents"),
        description=_(
            "Incidents at their points with their category, status and the level holding "
            "them; with datetime, those reported then."
        ),
        queryset=incidents,
        geometry="location",
        geometry_type="Point",
        id_field="id",
        id_type="integer",
        properties=(
            Property("title", "title", "string", _("title"), nullable=False),
            Property("category", "category__code", "string", _("category"), nullable=False),
            Property(
                "category_name", "category__name", "string", _("category name"), nullable=False
            ),
            Property(
                "priority",
                "priority",
                "string",
                _("priority"),
                enum=values_of(Priority),
                nullable=False,
            ),
            Property(
                "status", "status", "string", _("status"), enum=values_of(Status), nullable=False
            ),
            Property(
                "level", "level", "string", _("held by"), enum=values_of(Level), nullable=False
            ),
            Property(
                "source", "source", "string", _("source"), enum=values_of(Source), nullable=False
            ),
            Property("grid", "grid__code", "string", _("grid")),
            Property("reported_at", "reported_at", "date-time", _("reported at"), nullable=False),
            Property("closed_at", "closed_at", "date-time", _("closed at")),
            Property("due_at", "due_at", "date-time", _("current step due")),
            Property(
                "step_overdue", "step_overdue", "boolean", _("current step overdue"), nullable=False
            ),
        ),
        temporal=reported_in,
        large=True,
        read_only_note=_("Incidents change through their steps in the API."),
        read_only_link="/api/docs/",
        order=40,
        keywords=("incident", "事件"),
    )
)
