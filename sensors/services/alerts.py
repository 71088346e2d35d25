"""Camera analytics alerts become incidents (smoke or fire, objects thrown from height,
crowds, blocked fire lanes, wall climbing).

One alert, one incident, reported at the camera's location in the grid the camera is keyed
to, with source "sensor". The same event resent (same gateway and event id) answers what it
answered the first time. An alert of the same kind within GRIDLINE_ALERT_DEDUP_MINUTES and
GRIDLINE_ALERT_DEDUP_METRES (on the spheroid) of an open alert of any camera is the same
thing seen again (two cameras seeing one smoke are one fire): the open alert counts it and
no incident is added. After the window a new alert and incident are made.

A gateway reports through a service account of its own: an active user named
`gateway-<code>`, role district_centre of the gateway's district, with an unusable password
(it cannot sign in; it exists so that the incident has a reporter and the jurisdiction
rules of incidents.services.reporting apply unchanged).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext

from grids.models import Role as UserRole
from grids.models import User
from grids.problems import Problem, ProblemsError
from incidents.models import Priority, Source
from incidents.services.reporting import Report, grids_near, report_incident
from sensors import catalogue
from sensors.models import AlertKind, Gateway, Role, Sensor, SensorAlert
from sensors.services import live
from sensors.services.registry import sensors_of
from sensors.sql import alerts as sql

# Resent events become the same incident even if the alert row were gone: the incident's
# client key is derived from the gateway and the event id.
EVENT_NAMESPACE = uuid.UUID("1b0f4c52-8a0e-4d35-9a57-5f0c2f7f6a61")
ANALYTICS_KINDS = tuple(catalogue.ALERT_CATEGORIES)


# Camera alerts older than this are refused rather than opened as incidents.
STALE_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class AlertResult:
    alert: SensorAlert
    created: bool  # a new alert and incident
    deduplicated: bool  # counted on an open alert nearby

    def as_dict(self) -> dict:
        return {
            "alert": self.alert.pk,
            "incident": self.alert.incident_id,
            "created": self.created,
            "deduplicated": self.deduplicated,
        }


def _refuse(code: str, message: str, field: str) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def service_account(gateway: Gateway) -> User:
    """The user a gateway's reports are made by (created on first use)."""
    user, _created = User.objects.get_or_create(
        username=f"gateway-{gateway.code}"[:150],
        defaults={
            "role": UserRole.DISTRICT_CENTRE,
            "region_id": gateway.district_id,
            "first_name": gateway.name[:150],
            "password": make_password(None),  # unusable: the account cannot sign in
        },
    )
    if user.has_usable_password() or user.region_id != gateway.district_id:
        # A person (or another district's account) already has the name: reporting as them
        # would put a machine's alerts under a person's name.
        raise ProblemsError(
            [
                Problem(
                    "service_account_taken",
                    gettext(
                        "the user name '%(name)s' belongs to someone else; rename the gateway "
                        "or that user"
                    )
                    % {"name": user.username},
                    field="gateway",
                )
            ]
        )
    return user


def _camera(gateway: Gateway, code: str) -> Sensor:
    sensor = sensors_of(gateway, [code]).get(code)
    if sensor is None:
        # Unknown, another gateway's or another district's: the same answer for all three.
        raise _refuse(
            "unknown_camera", f"no camera {code!r} among this gateway's devices", "camera"
        )
    if sensor.role != Role.CAMERA:
        raise _refuse("not_a_camera", f"device {code!r} is not a camera", "camera")
    return sensor


def _event(gateway: Gateway, event_id: str) -> dict:
    return {"gateway": gateway.pk, "event_id": event_id}


def _replayed(gateway: Gateway, event_id: str, kind: str, at: dt.datetime) -> SensorAlert | None:
    """The alert an event already went into: its own, or the open alert it was counted on
    (whose last_at is at least the event's time)."""
    own = SensorAlert.objects.filter(gateway=gateway, external_id=event_id).first()
    if own is not None:
        return own
    return SensorAlert.objects.filter(
        kind=kind, last_at__gte=at, details__events__contains=[_event(gateway, event_id)]
    ).first()


def _title(kind: str, sensor: Sensor) -> str:
    # Stored text: written in the site's language, whatever the caller's.
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Camera alert: %(kind)s — %(camera)s") % {
            "kind": AlertKind(kind).label,
            "camera": sensor.name or sensor.code,
        }


def _grid_code(sensor: Sensor) -> str | None:
    """The grid to report in: the camera's own; for a camera in no grid near a grid's edge,
    the first grid there (reporting otherwise asks a person to choose)."""
    if sensor.grid_id is not None:
        return sensor.grid.code
    near = grids_near(sensor.location, settings.GRIDLINE_INCIDENT_EDGE_M)
    return near[0].code if near else None


def receive_alert(
    gateway: Gateway,
    *,
    event_id: str,
    camera: str,
    kind: str,
    at: dt.datetime,
    confidence: float | None = None,
    snapshot: str = "",
    description: str = "",
) -> AlertResult:
    """Record a camera analytics alert: a new incident, a count on an open alert nearby, or
    (for a resent event) what the first call made."""
    if kind not in ANALYTICS_KINDS:
        raise _refuse("unknown_kind", f"kind is one of {', '.join(ANALYTICS_KINDS)}", "kind")
    if not event_id.strip():
        raise _refuse("required", "an event id is required", "event_id")
    if timezone.is_naive(at):
        raise _refuse("naive_time", "give the time with its offset (ISO 8601)", "at")
    now = timezone.now()
    if at > now + dt.timedelta(seconds=settings.GRIDLINE_READINGS_FUTURE_SECONDS):
        raise _refuse("future_time", "the alert's time is in the future", "at")
    if at < now - STALE_AFTER:
        # A backlog a gateway replays after an outage is history, not a case to dispatch.
        raise _refuse("too_old", "the alert is more than a day old", "at")
    sensor = _camera(gateway, camera)
    details = {
        "camera": sensor.code,
        "confidence": confidence,
        "snapshot": snapshot,
        "description": description,
    }
    window = dt.timedelta(minutes=settings.GRIDLINE_ALERT_DEDUP_MINUTES)
    try:
        with transaction.atomic():
            sql.lock_kind(kind)
            replay = _replayed(gateway, event_id, kind, at)
            if replay is not None:
                return AlertResult(replay, created=False, deduplicated=False)
            open_id = sql.open_alert_near(
                kind,
                sensor.location,
                settings.GRIDLINE_ALERT_DEDUP_METRES,
                since=at - window,
                until=at + window,
                district=sensor.district_id,
            )
            if open_id is not None:
                return _count_on(open_id, gateway, event_id, at, details)
            return _new_alert(gateway, sensor, event_id, kind, at, details)
    except IntegrityError:
        # The same event id of this gateway under another kind, written meanwhile.
        replay = SensorAlert.objects.filter(gateway=gateway, external_id=event_id).first()
        if replay is None:
            raise
        return AlertResult(replay, created=False, deduplicated=False)


def _count_on(open_id: int, gateway, event_id: str, at, details: dict) -> AlertResult:
    alert = SensorAlert.objects.select_for_update().get(pk=open_id)
    events = alert.details.get("events", [])
    seen_by = alert.details.get("seen_by", [])
    if details["camera"] not in seen_by:
        seen_by.append(details["camera"])
    SensorAlert.objects.filter(pk=open_id).update(
        count=F("count") + 1,
        last_at=Greatest("last_at", at),
        details={
            **alert.details,
            "events": [*events, _event(gateway, event_id)],
            "seen_by": seen_by,
        },
    )
    alert.refresh_from_db()
    return AlertResult(alert, created=False, deduplicated=True)


def _new_alert(gateway, sensor: Sensor, event_id: str, kind: str, at, details) -> AlertResult:
    category = catalogue.ALERT_CATEGORIES[kind][0]
    text = "\n".join(
        part
        for part in (
            details["description"],
            f"{gettext('confidence')}: {details['confidence']:.2f}"
            if details["confidence"] is not None
            else "",
            details["snapshot"],
        )
        if part
    )
    incident, _created = report_incident(
        Report(
            title=_title(kind, sensor),
            category=category,
            location=sensor.location,
            source=Source.SENSOR,
            description=text,
            priority=Priority.URGENT if kind == AlertKind.SMOKE_FIRE else Priority.NORMAL,
            client_key=uuid.uuid5(EVENT_NAMESPACE, f"{gateway.pk}:{event_id}"),
            grid=_grid_code(sensor),
        ),
        user=service_account(gateway),
    )
    alert = SensorAlert.objects.create(
        sensor=sensor,
        kind=kind,
        started_at=at,
        last_at=at,
        gateway=gateway,
        external_id=event_id,
        incident=incident,
        details={**details, "events": [_event(gateway, event_id)], "seen_by": [sensor.code]},
    )
    live.alerts(opened=[alert])
    return AlertResult(alert, created=True, deduplicated=False)
