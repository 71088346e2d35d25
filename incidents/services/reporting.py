"""Reporting incidents (上报): located, keyed to the tree on write, idempotent, and asked to
confirm the grid when the point lies near another grid's edge."""

from __future__ import annotations

import datetime as dt
import logging
import struct
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from grids import scoping, sql
from grids.models import Grid, Level, Region, Theme, today
from grids.problems import Problem, ProblemsError
from grids.services.households import check_in_jurisdiction
from incidents import sql as incidents_sql
from incidents.models import (
    Action,
    Category,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    Priority,
    Source,
    Status,
)
from incidents.models import Level as Holder
from incidents.services import live

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    title: str
    category: str  # category code
    location: Point
    source: str
    description: str = ""
    priority: str = Priority.NORMAL
    client_key: uuid.UUID | None = None
    grid: str | None = None  # the grid code the reporter confirmed, near an edge
    photos: tuple = ()  # uploaded files


# Decoded formats accepted as photos, and the extension they are stored under.
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class CheckedPhoto:
    file: object
    extension: str
    width: int
    height: int


# What decoding an untrusted file may raise: each means the file is not a usable image.
BROKEN_IMAGE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    ZeroDivisionError,
)


def photo_max_pixels() -> int:
    return int(settings.GRIDLINE_PHOTO_MAX_MEGAPIXELS * 1_000_000)


def _too_many_pixels(name: str, size: tuple[int, int] | None, field: str, row: int) -> Problem:
    limit = f"{settings.GRIDLINE_PHOTO_MAX_MEGAPIXELS:g}"
    if size:
        message = _("%(name)s: %(width)s x %(height)s px, over the %(limit)s megapixel limit") % {
            "name": name,
            "width": size[0],
            "height": size[1],
            "limit": limit,
        }
    else:
        message = _("%(name)s: far more pixels than the %(limit)s megapixel limit") % {
            "name": name,
            "limit": limit,
        }
    return Problem(
        "photo_too_many_pixels",
        message,
        field=field,
        row=row,
    )


def check_photos(files, field_name: str = "photos") -> list[CheckedPhoto]:
    """Each file must decode as a JPEG, PNG or WebP image within the size limit; the name
    and the declared content type are not trusted."""
    limit = settings.GRIDLINE_PHOTO_MAX_MB * 1024 * 1024
    max_pixels = photo_max_pixels()
    checked, problems = [], []
    for i, upload in enumerate(files):
        name = getattr(upload, "name", f"#{i + 1}")
        if upload.size > limit:
            problems.append(
                Problem(
                    "photo_too_large",
                    _("%(name)s: %(size)s MB is over the %(limit)s MB limit")
                    % {
                        "name": name,
                        "size": f"{upload.size / 1048576:.1f}",
                        "limit": f"{settings.GRIDLINE_PHOTO_MAX_MB:g}",
                    },
                    field=field_name,
                    row=i + 1,
                )
            )
            continue
        try:
            upload.seek(0)
            with warnings.catch_warnings():
                # The size is checked below against our own limit, naming the file.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(upload) as image:
                    kind, (width, height) = image.format, image.size
                    if width * height <= max_pixels:
                        image.verify()
        except Image.DecompressionBombError:
            # Pillow refuses headers beyond twice its own limit before we see the size.
            problems.append(_too_many_pixels(name, None, field_name, i + 1))
            continue
        except BROKEN_IMAGE as error:
            # Pillow's reason is English and names Python objects: logged for us, not shown.
            log.info("photo %s refused: %s", name, error)
            problems.append(
                Problem(
                    "not_an_image",
                    _("%(name)s: not a readable image (JPEG, PNG or WebP)") % {"name": name},
                    field=field_name,
                    row=i + 1,
                )
            )
            continue
        if width * height > max_pixels:
            problems.append(_too_many_pixels(name, (width, height), field_name, i + 1))
            continue
        if kind not in PHOTO_FORMATS:
            problems.append(
                Problem(
                    "not_an_image",
                    _("%(name)s: %(kind)s images are not accepted (JPEG, PNG or WebP)")
                    % {"name": name, "kind": kind},
                    field=field_name,
                    row=i + 1,
                )
            )
            continue
        upload.seek(0)
        checked.append(CheckedPhoto(upload, PHOTO_FORMATS[kind], width, height))
    if problems:
        raise ProblemsError(problems)
    return checked


def save_photos(incident: Incident, photos: list[CheckedPhoto], *, user, event=None) -> list:
    saved = []
    for photo in photos:
        row = IncidentPhoto(
            incident=incident,
            event=event,
            extension=photo.extension,
            width=photo.width,
            height=photo.height,
            uploaded_by=user,
        )
        row.image.save(f"photo.{photo.extension}", File(photo.file), save=False)
        row.save()
        saved.append(row)
    return saved


def add_photos(incident_id: int, files, *, user) -> list:
    """Photos added to an open incident the user can see (e.g. after handling)."""
    photos = check_photos(files)
    with transaction.atomic():
        incident = Incident.objects.visible_to(user).filter(pk=incident_id).first()
        if incident is None:
            raise Incident.DoesNotExist(f"no incident {incident_id}")
        return save_photos(incident, photos, user=user)


def possible_duplicates(
    category: str, point: Point, *, exclude: int | None = None, user=None
) -> list[tuple[Incident, float]]:
    """Open or recent incidents of the same category near the point (settings
    GRIDLINE_DUPLICATE_M metres, GRIDLINE_DUPLICATE_DAYS days), nearest first, as
    (incident, metres)."""
    since = timezone.now() - dt.timedelta(days=settings.GRIDLINE_DUPLICATE_DAYS)
    near = incidents_sql.incidents_near(
        category, point, settings.GRIDLINE_DUPLICATE_M, since, exclude
    )
    incidents = Incident.objects.filter(pk__in=near, merged_into__isnull=True)
    if user is not None:
        incidents = incidents.visible_to(user)
    found = {
        i.pk: i for i in incidents.select_related("category", "grid", "department", "whistle_class")
    }
    return [(found[pk], metres) for pk, metres in near.items() if pk in found]


def _problem(code: str, message: str, field: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def grids_near(point: Point, metres: float) -> list[Grid]:
    """Governance grids valid today whose boundary lies within `metres` of the point (the
    grid holding it first), smallest code first."""
    near = incidents_sql.grid_ids_near(point, metres, today())
    return list(
        Grid.objects.valid_on()
        .filter(theme=Theme.GOVERNANCE, pk__in=near)
        .select_related("community__parent__parent")
        .order_by("code")
    )


def _place(report: Report, user) -> tuple[Grid | None, dict[str, Region | None]]:
    """The grid and regions of the point; near an edge, the grid the reporter confirmed.

    Only grids the reporter may see are ever named or accepted: a grid of another
    jurisdiction near the point is answered as if it did not exist (decision 4)."""
    point = report.location
    holding = Grid.objects.containing(point).select_related("community__parent__parent").first()
    candidates = grids_near(point, settings.GRIDLINE_INCIDENT_EDGE_M)
    visible = set(
        Grid.objects.visible_to(user)
        .filter(pk__in=[g.pk for g in candidates])
        .values_list("pk", flat=True)
    )
    choosable = [g for g in candidates if g.pk in visible]
    if report.grid:
        chosen = next((g for g in choosable if g.code == report.grid), None)
        if chosen is None:
            codes = ", ".join(g.code for g in choosable) or _("none")
            raise _problem(
                "grid_not_near",
                # The chosen code is not echoed: it may be another jurisdiction's grid.
                _(
                    "the chosen grid is not a grid of your jurisdiction within %(metres)s m "
                    "of the point (grids near it: %(codes)s)"
                )
                % {"metres": f"{settings.GRIDLINE_INCIDENT_EDGE_M:g}", "codes": codes},
                "grid",
            )
        holding = chosen
    elif len(candidates) > 1 and choosable:
        codes = ", ".join(f"{g.code} {g.name}" for g in choosable)
        raise _problem(
            "near_grid_edge",
            _(
                "the point is within %(metres)s m of a grid's edge: "
                "confirm the grid it is in (%(codes)s)"
            )
            % {"metres": f"{settings.GRIDLINE_INCIDENT_EDGE_M:g}", "codes": codes},
            "grid",
        )
    if holding is not None:
        community = holding.community
        return holding, {
            "community": community,
            "street": community.parent,
            "district": community.parent.parent if community.parent else None,
        }
    regions = {r.level: r for r in Region.objects.containing(point).valid_on()}
    if Level.DISTRICT not in regions:
        raise _problem(
            "outside_district",
            _("the point %(lonlat)s lies in no district of the platform")
            % {"lonlat": f"{point.x:.6f},{point.y:.6f}"},
            "location",
        )
    return None, {
        "community": regions.get(Level.COMMUNITY),
        "street": regions.get(Level.STREET),
        "district": regions.get(Level.DISTRICT),
    }


def _reports_outside_grids(user, district: Region | None) -> bool:
    """A point in no grid is held by the district centre: it, administrators and the
    district's departments (whose jurisdiction is the district) may report there."""
    if scoping.sees_unassigned(user):
        return True
    return (
        user.role == "department"
        and district is not None
        and district.pk == scoping.user_district(user)
    )


def _resent(existing: Incident, user) -> Incident:
    if not Incident.objects.visible_to(user).filter(pk=existing.pk).exists():
        raise _problem("key_conflict", _("this client key is already in use"), "client_key")
    return existing


def due_at(category: Category, step: str, priority: str, start: dt.datetime) -> dt.datetime | None:
    hours = category.hours_for(step, priority)
    return start + dt.timedelta(hours=hours) if hours is not None else None


def report_incident(report: Report, *, user) -> tuple[Incident, bool]:
    """Create an incident, or return the one already sent with the same client key (also when
    two copies race). Returns (incident, created)."""
    if report.client_key and (
        existing := Incident.objects.filter(client_key=report.client_key).first()
    ):
        return _resent(existing, user), False
    category = Category.objects.filter(code=report.category, active=True).first()
    if category is None:
        raise _problem(
            "unknown_category",
            _("no active category %(code)s") % {"code": repr(report.category)},
            "category",
        )
    if report.priority not in Priority.values:
        raise _problem(
            "invalid_priority",
            _("priority is one of %(values)s") % {"values": ", ".join(Priority.values)},
            "priority",
        )
    if report.source not in Source.values:
        raise _problem(
            "invalid_source",
            _("source is one of %(values)s") % {"values": ", ".join(Source.values)},
            "source",
        )
    if not report.title.strip():
        raise _problem("required", _("a title is required"), "title")
    photos = check_photos(report.photos)
    now = timezone.now()
    try:
        with transaction.atomic():
            # The grid lookup and the insert under the shared tree lock, as for households.
            sql.lock_tree(shared=True)
            grid, regions = _place(report, user)
            if grid is not None:
                check_in_jurisdiction(user, grid)
            elif not _reports_outside_grids(user, regions["district"]):
                raise _problem(
                    "outside_jurisdiction",
                    _("the location is outside your jurisdiction"),
                    "location",
                )
            incident = Incident.objects.create(
                client_key=report.client_key or uuid.uuid4(),
                title=report.title.strip(),
                description=report.description,
                category=category,
                priority=report.priority,
                source=report.source,
                location=report.location,
                grid=grid,
                **regions,
                status=Status.REPORTED,
                level=Holder.GRID if grid else Holder.DISTRICT,
                reporter=user,
                reported_at=now,
                due_at=due_at(category, Action.REGISTER, report.priority, now),
            )
            event = IncidentEvent.objects.create(
                incident=incident,
                action=Action.REPORT,
                to_status=Status.REPORTED,
                level=incident.level,
                actor=user,
                at=now,
                comment=report.description,
            )
            save_photos(incident, photos, user=user, event=event)
            live.created(incident)
    except IntegrityError:
        if report.client_key and (
            existing := Incident.objects.filter(client_key=report.client_key).first()
        ):
            return _resent(existing, user), False
        raise
    return incident, True
