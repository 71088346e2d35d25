"""Incidents from the phone: a report (上报) at a point with photos, and a step of the closed
loop on an incident assigned to the worker. Both go through the incidents app's services,
which keep every rule (categories, jurisdiction, the edge of a grid, who may take a step,
photo checks); this module only reads the item and answers in the working-set shape."""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext as _

from field.models import Patrol, PatrolIncident
from field.services.kinds import records
from field.services.kinds.base import (
    Applied,
    Conflict,
    Context,
    kind,
    not_found,
    point,
    refused,
    target_id,
    text,
    validated,
    whole_number,
)
from grids.problems import ProblemsError
from incidents.api.serializers import StepSerializer
from incidents.models import Category, Incident, Priority, Source
from incidents.services.reporting import Report, report_incident
from incidents.services.transitions import StaleVersion, Step, take_step

SET = "incidents"
# What a step may carry besides its note (the version is the item's base_version).
STEP_FIELDS = ("action", "department", "whistle_class", "to_level", "score", "target")
TITLE_CHARS = 200


def _title(category: Category | None, address: str, description: str) -> str:
    """The phone asks for no title: the category's name and where, as a dispatcher's queue
    shows them (else the description's first words)."""
    name = category.name if category else ""
    title = " · ".join(part for part in (name, address) if part) or description[:40]
    return title[:TITLE_CHARS] or "incident"


def patrol_key(data: dict) -> str | None:
    value = data.get("patrol_client_key")
    if value in (None, ""):
        return None
    return records.uuid_of(value, "patrol_client_key")


@kind("incident.report", photos=True)
def report(ctx: Context) -> Applied:
    data = ctx.data
    description = text(data, "description", 5000)
    address = text(data, "address", 200)
    location = point(data)
    key = patrol_key(data)
    code = data.get("category")
    if not isinstance(code, str) or not code.strip():
        raise refused("required", _("choose a category"), "category")
    category = Category.objects.filter(code=code, active=True).first()
    report = Report(
        title=_title(category, address, description),
        category=code,
        location=location,
        source=Source.PATROL,
        description=description,
        priority=data.get("priority") or Priority.NORMAL,
        client_key=ctx.client_key,
        grid=data.get("grid") or None,
        photos=tuple(ctx.photos),
    )
    try:
        incident, _created = report_incident(report, user=ctx.user)
    except ProblemsError as error:
        own = getattr(ctx.user, "grid", None)
        if own is None or report.grid or error.problems[0].code != "near_grid_edge":
            raise
        # Near an edge the service asks which grid: a grid worker reports for their own grid
        # (the only one it lets them name), as they would confirm on the report form.
        incident, _created = report_incident(replace(report, grid=own.code), user=ctx.user)
    private = {}
    if key is not None:
        patrol = Patrol.objects.filter(client_key=key, worker=ctx.user).first()
        if patrol is not None:
            PatrolIncident.objects.get_or_create(patrol=patrol, incident=incident)
        else:
            # The patrol may arrive later (it is saved when it stops): the patrol's write
            # attaches the incidents whose receipts name it.
            private["patrol"] = key
    return Applied(records.one(SET, incident.pk, ctx.user), SET, incident.pk, private)


@kind("incident.step", photos=True)
def step(ctx: Context) -> Applied:
    data = ctx.data
    pk = target_id(ctx)
    if ctx.base_version in (None, ""):
        raise refused(
            "required",
            _("a step says which version of the incident it was based on"),
            "base_version",
        )
    version = whole_number(ctx.base_version, "base_version")
    fields = validated(
        StepSerializer,
        {
            **{k: v for k, v in data.items() if k in STEP_FIELDS},
            "comment": data.get("note", data.get("comment", "")),
            "version": version,
        },
    )
    fields["photos"] = tuple(ctx.photos)
    try:
        incident = take_step(pk, Step(**fields), user=ctx.user, now=ctx.now)
    except Incident.DoesNotExist:
        raise not_found("incident") from None
    except StaleVersion as stale:
        raise Conflict(
            records.one(SET, stale.incident.pk, ctx.user), str(stale.incident.version), SET
        ) from None
    return Applied(records.one(SET, incident.pk, ctx.user), SET, incident.pk)
