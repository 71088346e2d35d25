"""Device health: a device believed online that stays silent longer than its type allows
(SensorType.silence: the type's own `offline_after`, else GRIDLINE_SENSOR_OFFLINE_AFTER)
goes offline and raises an OFFLINE alert, which ends when it speaks again (ingest).

The people responsible hear of it once per sweep, not once per device: a gateway that dies
with a thousand devices behind it sends each recipient one notification with the counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grids.models import Grid, User
from grids.models import Role as UserRole
from grids.signals import announce
from notifications.services import notify
from sensors.models import AlertKind, Role, Sensor, SensorAlert
from sensors.services import live
from sensors.sql import readings as sql

NOTIFICATION_KIND = "sensors.offline"
NOTIFICATION_URL = "/sensors/?status=offline"


def sweep_offline(now: dt.datetime | None = None) -> int:
    """Mark silent devices offline (one UPDATE), open an OFFLINE alert for each, tell the
    owning departments and the street and community staff of their grids. Returns how many
    went offline."""
    now = now or timezone.now()
    default = dt.timedelta(seconds=settings.GRIDLINE_SENSOR_OFFLINE_AFTER)
    with transaction.atomic():
        gone = sql.sweep_offline(now, default)
        if not gone:
            return 0
        _tell(gone)
        announce(Sensor)
        ids = [row[0] for row in gone]
        live.statuses(ids)
        live.alerts(
            opened=SensorAlert.objects.filter(
                sensor_id__in=ids, kind=AlertKind.OFFLINE, started_at=now, ended_at__isnull=True
            )
        )
    return len(gone)


def _tell(gone: list[tuple[int, str, int | None, int | None]]) -> int:
    grid_ids = {grid_id for _id, _role, grid_id, _dept in gone if grid_id}
    above = {
        pk: (community, street)
        for pk, community, street in Grid.objects.filter(pk__in=grid_ids).values_list(
            "pk", "community_id", "community__parent_id"
        )
    }
    # Per responsible unit, the devices that went offline there, counted by role.
    counts: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for _id, role, grid_id, department_id in gone:
        if department_id:
            counts[(UserRole.DEPARTMENT, department_id)][role] += 1
        if grid_id in above:
            community, street = above[grid_id]
            counts[(UserRole.COMMUNITY_STAFF, community)][role] += 1
            counts[(UserRole.STREET_CENTRE, street)][role] += 1
    if not counts:
        return 0
    departments = [unit for (role, unit) in counts if role == UserRole.DEPARTMENT]
    regions = [unit for (role, unit) in counts if role != UserRole.DEPARTMENT]
    recipients = User.objects.filter(is_active=True).filter(
        Q(role=UserRole.DEPARTMENT, department_id__in=departments)
        | Q(role__in=[UserRole.COMMUNITY_STAFF, UserRole.STREET_CENTRE], region_id__in=regions)
    )
    # Recipients with the same counts get the same text: one notify() call for them all.
    groups: dict[tuple, list[User]] = defaultdict(list)
    for user in recipients:
        unit = user.department_id if user.role == UserRole.DEPARTMENT else user.region_id
        counted = counts.get((user.role, unit))
        if counted:
            groups[tuple(sorted(counted.items()))].append(user)
    told = 0
    # Written in the platform's language: the worker has no request to take one from.
    with translation.override(settings.LANGUAGE_CODE):
        for counted, users in groups.items():
            total = sum(n for _role, n in counted)
            told += notify(
                users,
                kind=NOTIFICATION_KIND,
                title=ngettext(
                    "%(count)d device went offline", "%(count)d devices went offline", total
                )
                % {"count": total},
                body=_("Silent longer than allowed: %(roles)s")
                % {"roles": ", ".join(f"{Role(role).label} {n}" for role, n in counted)},
                url=NOTIFICATION_URL,
            )
    return told
