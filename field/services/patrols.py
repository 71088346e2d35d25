"""Patrols (巡查): a GPS track recorded on the phone from start to stop, kept with its length
in metres (on the spheroid, through PostGIS geography) and its duration; the incidents found
on the way attach to it; the community sees hours and kilometres per worker or grid.

Times: a patrol's start and end are the phone's (a patrol happens before it is sent, often
offline), checked for being possible: an end ahead of the server's clock (beyond the skew) or
a start before the platform's earliest date means the phone's clock is wrong, and the patrol
is then placed to end when the server received it, keeping its length of time. The fixes'
own times stay in `points` as the phone reported them."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib.gis.db.models import LineStringField
from django.contrib.gis.db.models.functions import AsGeoJSON, Length
from django.contrib.gis.geos import GEOSGeometry, LineString
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Cast
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _

from field.models import Patrol, PatrolIncident
from grids import limits, scoping, timestamps
from grids.models import Grid, Role, User
from grids.problems import Problem, ProblemsError

MAX_POINTS = 50_000  # a 12-hour patrol with a fix every second is 43,200
MAX_HOURS = 24
# Fixes less accurate than this are kept in `points` but left out of the track: a phone
# indoors jumps by tens of metres and would add distance never walked.
MAX_ACCURACY_M = getattr(settings, "GRIDLINE_PATROL_MAX_ACCURACY_M", 100.0)
NOTE_CHARS = 2000


def _problem(code: str, message: str, field: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def _moment(value, field: str) -> dt.datetime:
    moment = None
    if isinstance(value, str):
        try:
            moment = dateparse.parse_datetime(value)
        except ValueError:
            moment = None
    if moment is None:
        raise _problem("invalid", _("an ISO 8601 date and time"), field)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def read_points(points) -> list[list]:
    """[[lon, lat, time, accuracy in metres], …] as the phone recorded them, checked (each
    bad fix named by its index) and completed to four members."""
    if not isinstance(points, list):
        raise _problem("invalid", _("points is a list of [lon, lat, time, accuracy]"), "points")
    if len(points) > MAX_POINTS:
        raise _problem(
            "too_many_points",
            _("%(n)d points, at most %(max)d") % {"n": len(points), "max": MAX_POINTS},
            "points",
        )
    fixes = []
    for i, point in enumerate(points):
        field = f"points.{i}"
        if not isinstance(point, list) or not 2 <= len(point) <= 4:
            raise _problem("invalid", _("a point is [lon, lat, time, accuracy]"), field)
        lon, lat, at, accuracy = (*point, None, None)[:4]
        found = limits.lonlat_problem(lon, lat)
        if found:
            raise _problem("invalid", f"{found[0]} {found[1]}", field)
        if accuracy is not None and (limits.finite_problem(accuracy) or accuracy < 0):
            raise _problem("invalid", _("the accuracy is metres, 0 or more"), field)
        if at is not None and not isinstance(at, str):
            raise _problem("invalid", _("the time of a point is ISO 8601 text"), field)
        fixes.append([lon, lat, at, accuracy])
    return fixes


def track_of(fixes: list[list]) -> LineString | None:
    """The line through the fixes accurate enough, repeats dropped; None with fewer than two
    places. Built from WKT: GEOS parses 40,000 points at once, where setting them one by one
    through GeoDjango's coordinate sequence takes seconds."""
    coords, last = [], None
    for lon, lat, _at, accuracy in fixes:
        if accuracy is not None and accuracy > MAX_ACCURACY_M:
            continue
        if (lon, lat) != last:
            coords.append(f"{float(lon)!r} {float(lat)!r}")
            last = (lon, lat)
    if len(coords) < 2:
        return None
    return GEOSGeometry(f"LINESTRING ({', '.join(coords)})", srid=4326)


def placed(started: dt.datetime, ended: dt.datetime, received: dt.datetime):
    """The patrol's start and end on the server's clock (see the module's note)."""
    skew = timestamps.clock_skew()
    earliest = timestamps.start_of(timestamps.earliest_date())
    if ended > received + skew or started < earliest:
        return received - (ended - started), received
    return started, ended


def record(user, *, client_key, data: dict, received: dt.datetime) -> tuple[Patrol, bool]:
    """Save a patrol (idempotent by its client key): (patrol, created)."""
    existing = Patrol.objects.filter(client_key=client_key).first()
    if existing is not None:
        if existing.worker_id != user.pk:
            raise _problem("key_conflict", _("this client key is already in use"), "client_key")
        return existing, False
    if user.role != Role.GRID_WORKER or user.grid_id is None:
        error = _problem(
            "not_a_grid_worker", _("patrols are recorded by the grid's own workers"), "grid"
        )
        error.status_code = 403
        raise error
    unknown = sorted(set(data) - {"started_at", "ended_at", "points", "note", "patrol_client_key"})
    if unknown:
        raise _problem(
            "unknown_field", _("a patrol has no member %(name)s") % {"name": unknown[0]}, unknown[0]
        )
    started = _moment(data.get("started_at"), "started_at")
    ended = _moment(data.get("ended_at"), "ended_at")
    if ended < started:
        raise _problem("ends_before_start", _("the patrol ends before it starts"), "ended_at")
    if ended - started > dt.timedelta(hours=MAX_HOURS):
        raise _problem(
            "too_long",
            _("a patrol lasts at most %(hours)d hours") % {"hours": MAX_HOURS},
            "ended_at",
        )
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > NOTE_CHARS:
        raise _problem(
            "invalid", _("the note is text of at most %(n)d characters") % {"n": NOTE_CHARS}, "note"
        )
    fixes = read_points(data.get("points", []))
    started, ended = placed(started, ended, received)
    try:
        # A savepoint: the same patrol sent twice at once under two item keys meets the
        # unique client key here, and the second answer is the first patrol, not a 500.
        with transaction.atomic():
            patrol = _create(user, client_key, started, ended, fixes, note)
    except IntegrityError:
        existing = Patrol.objects.filter(client_key=client_key).first()
        if existing is None:
            raise
        if existing.worker_id != user.pk:
            raise _problem(
                "key_conflict", _("this client key is already in use"), "client_key"
            ) from None
        return existing, False
    return patrol, True


def _create(user, client_key, started, ended, fixes, note: str) -> Patrol:
    patrol = Patrol.objects.create(
        client_key=client_key,
        worker=user,
        grid_id=user.grid_id,
        started_at=started,
        ended_at=ended,
        track=track_of(fixes),
        points=fixes,
        distance_m=0,
        duration_s=round((ended - started).total_seconds()),
        note=note.strip(),
    )
    if patrol.track is not None:
        geography = Cast("track", LineStringField(geography=True, srid=4326))
        metres = Patrol.objects.filter(pk=patrol.pk).annotate(m=Length(geography)).get().m
        patrol.distance_m = round(metres.m, 1)
        patrol.save(update_fields=["distance_m"])
    return patrol


def attach(patrol: Patrol, incident_ids) -> int:
    """Incidents found on the patrol (reported with its key, before or after it arrived)."""
    links = [PatrolIncident(patrol=patrol, incident_id=pk) for pk in set(incident_ids)]
    return len(PatrolIncident.objects.bulk_create(links, ignore_conflicts=True))


# --- reading: the list and the figures -------------------------------------------------------


def scope_q(user, prefix: str = "") -> Q:
    """Patrols follow the households' rule, not the grid rule: a track says where a person
    was hour by hour, like a visit, so a department (which sees the tree's figures but no
    households) sees none; a grid worker sees the grid's, community staff the community's."""
    return scoping.household_q(user, prefix)


def visible_to(user):
    return Patrol.objects.filter(scope_q(user))


def month_start(today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()).replace(day=1)


def between(patrols, start: dt.date | None, end: dt.date | None):
    """Patrols that started on a local day from `start` to `end` (both included)."""
    if start is not None:
        patrols = patrols.filter(started_at__gte=timestamps.start_of(start))
    if end is not None:
        patrols = patrols.filter(started_at__lt=timestamps.start_of(end + dt.timedelta(days=1)))
    return patrols


def rows(patrols, limit: int) -> list[dict]:
    """The list's rows with the track as GeoJSON written by PostGIS: two queries."""
    found = list(
        patrols.select_related("worker", "grid")
        .annotate(track_json=AsGeoJSON("track", precision=6))
        .order_by("-started_at", "-id")[:limit]
    )
    links: dict[int, list[int]] = {}
    for patrol_id, incident_id in PatrolIncident.objects.filter(
        patrol__in=[p.pk for p in found]
    ).values_list("patrol_id", "incident_id"):
        links.setdefault(patrol_id, []).append(incident_id)
    return [
        {
            "id": p.pk,
            "client_key": str(p.client_key),
            "worker": p.worker.username,
            "worker_name": p.worker.get_full_name() or p.worker.username,
            "grid": p.grid.code,
            "grid_name": p.grid.name,
            "started_at": p.started_at,
            "ended_at": p.ended_at,
            "distance_m": p.distance_m,
            "duration_s": p.duration_s,
            "note": p.note,
            "incident_ids": sorted(links.get(p.pk, [])),
            "track": json.loads(p.track_json) if p.track_json else None,
        }
        for p in found
    ]


def _figure(row: dict) -> dict:
    if "username" in row:
        # As User.get_full_name() gives it (the demo keeps a whole Chinese name in first_name).
        name = f"{row.pop('first_name')} {row.pop('last_name')}".strip()
        row["name"] = name or row["username"]
    return {
        **row,
        "hours": round((row.pop("seconds") or 0) / 3600, 2),
        "km": round((row.pop("metres") or 0) / 1000, 2),
    }


def figures(user, by: str, start: dt.date | None, end: dt.date | None) -> list[dict]:
    """Patrols, hours and kilometres per worker (every grid worker the user oversees, those
    without a patrol at 0) or per grid, for patrols started in the period."""
    patrols = between(visible_to(user), start, end)
    if by == "worker":
        in_period = Q(patrols__in=patrols)
        workers = (
            User.objects.filter(role=Role.GRID_WORKER, is_active=True, grid__isnull=False)
            .filter(scope_q(user))
            .annotate(
                patrols_count=Count("patrols", filter=in_period),
                seconds=Sum("patrols__duration_s", filter=in_period),
                metres=Sum("patrols__distance_m", filter=in_period),
            )
            .values(
                "id",
                "username",
                "first_name",
                "last_name",
                "seconds",
                "metres",
                count=F("patrols_count"),
                grid_code=F("grid__code"),
                grid_name=F("grid__name"),
            )
            .order_by("grid__code", "username")
        )
        return [_figure(row) for row in workers]
    if by == "grid":
        totals = {
            row.pop("grid_id"): row
            for row in patrols.order_by()
            .values("grid_id")
            .annotate(count=Count("id"), seconds=Sum("duration_s"), metres=Sum("distance_m"))
        }
        grids = (
            Grid.objects.visible_to(user).current().order_by("code").values("id", "code", "name")
        )
        return [
            _figure({**g, **totals.get(g["id"], {"count": 0, "seconds": 0, "metres": 0})})
            for g in grids
        ]
    raise ValueError("patrol figures are grouped by worker or grid")
