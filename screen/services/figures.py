"""Everything the wall screen shows, in one scoped answer (GET /api/screen/figures/), cached
per jurisdiction for a short time and recomputed sooner after an incident or alert changes.

Scope: every figure comes from the querysets' `visible_to(user)`, so a street's screen
counts its street and a district's its district; the cache key is the jurisdiction (role
and region, grid or department), never the user, so two screens of one street share it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import get_language

from grids import scoping
from grids.models import Colour, Grid, Region, User
from grids.services.stats import current_figures
from reports.periods import Period, PeriodType
from reports.services.completeness import ledger_completeness, summary
from screen.services import incident_figures as inc
from sensors.models import AlertKind, Sensor, SensorAlert, Status

log = logging.getLogger(__name__)
VERSION_KEY = "screen:figures:version"
ALERT_ROWS = 10


def ttl() -> int:
    return int(getattr(settings, "GRIDLINE_SCREEN_FIGURES_SECONDS", 30))


def min_age() -> float:
    """An event makes cached figures stale, but they are recomputed at most this often per
    jurisdiction: an alert storm must not turn every screen request into a recount."""
    return float(getattr(settings, "GRIDLINE_SCREEN_FIGURES_MIN_SECONDS", 5))


def bump() -> None:
    """Called after an incident or alert commits (screen.signals)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 1, None)


def scope_of(user) -> dict:
    """The jurisdiction the screen shows: its level, code and name."""
    if scoping.sees_everything(user):
        return {"level": "all", "code": "", "name": ""}
    if user.role == "grid_worker" and user.grid_id:
        return {"level": "grid", "code": user.grid.code, "name": user.grid.name}
    region = scoping.jurisdiction_region(user)
    if region is None:
        return {"level": "none", "code": "", "name": ""}
    return {"level": region.level, "code": region.code, "name": region.name}


def scope_fields(user) -> dict:
    """What the background job needs to stand for the user: the jurisdiction, not who (every
    field of scoping.jurisdiction_key, so the job stores under the key the request reads)."""
    return {
        "is_superuser": bool(user.is_superuser),
        "role": user.role,
        "region_id": user.region_id,
        "grid_id": user.grid_id,
        "department_id": user.department_id,
    }


def stand_in(fields: dict) -> User:
    """An unsaved user of the jurisdiction: every visible_to() reads only these fields."""
    return User(username="screen-figures", is_active=True, **fields)


def _key(user, language: str) -> str:
    # The map tiles' key too: one rule for "these users see the same" (grids.scoping).
    return f"screen:figures:{scoping.jurisdiction_key(user)}:{language}"


def keep_seconds() -> int:
    return max(ttl() * 20, 600)


def _store(key: str, version: int, data: dict) -> None:
    # Kept well beyond the TTL: a stale answer is served while the worker recounts.
    cache.set(key, {"version": version, "computed": time.time(), "data": data}, keep_seconds())


def figures_for(user) -> dict:
    """The answer for the user's jurisdiction. Fresh: younger than the TTL and no incident or
    alert written since (or younger than min_age()). Stale: with a shared cache the stale
    answer is served at once and the worker recounts (screen.jobs), so a request never waits
    for a district's recount; with a per-process cache (tests, one process) it is recounted
    here. Nothing cached (or dropped after keep_seconds()): counted here."""
    language = get_language()
    key = _key(user, language)
    version = cache.get(VERSION_KEY, 0)
    entry = cache.get(key)
    if entry is not None:
        age = time.time() - entry["computed"]
        if age < ttl() and (entry["version"] == version or age < min_age()):
            return entry["data"]
        if settings.GRIDLINE_SHARED_CACHE and _refresh_later(user, key, language):
            return entry["data"]
    data = compute(user)
    _store(key, version, data)
    return data


def _refresh_later(user, key: str, language: str) -> bool:
    """Ask the worker to recount this jurisdiction, once however many screens ask; False
    when the job cannot be queued (the caller then counts)."""
    from screen import jobs

    if not cache.add(f"{key}:refreshing", 1, max(ttl(), 30)):
        return True  # already asked
    try:
        jobs.refresh_figures.defer(scope=scope_fields(user), language=language)
    except Exception:  # noqa: BLE001 - logged with its traceback; the request counts instead
        log.warning("screen: could not queue a figures refresh", exc_info=True)
        cache.delete(f"{key}:refreshing")
        return False
    return True


def refresh(fields: dict, language: str) -> None:
    """The worker's recount of one jurisdiction (screen.jobs.refresh_figures)."""
    user = stand_in(fields)
    with translation.override(language):
        key = _key(user, language)
        version = cache.get(VERSION_KEY, 0)
        try:
            _store(key, version, compute(user))
        finally:
            cache.delete(f"{key}:refreshing")


def _sensors(user) -> tuple[dict, dict]:
    visible = Sensor.objects.visible_to(user)
    by_status = {s: 0 for s in Status.values}
    by_status.update(dict(visible.order_by().values_list("status").annotate(n=Count("pk"))))
    kinds = dict(AlertKind.choices)
    alerts = SensorAlert.objects.filter(ended_at__isnull=True, sensor__in=visible)
    by_kind = [
        {"kind": kind, "name": str(kinds.get(kind, kind)), "n": n}
        for kind, n in alerts.order_by().values_list("kind").annotate(n=Count("pk")).order_by("-n")
    ]
    return by_status, {"open": sum(row["n"] for row in by_kind), "by_kind": by_kind}


def _recent_alerts(user) -> list[dict]:
    kinds = dict(AlertKind.choices)
    rows = (
        SensorAlert.objects.filter(
            ended_at__isnull=True, sensor__in=Sensor.objects.visible_to(user)
        )
        .select_related("sensor")
        .order_by("-started_at", "-pk")[:ALERT_ROWS]
    )
    return [
        {
            "kind": "alert",
            "at": a.started_at.isoformat(),
            "object": {
                "id": a.pk,
                "sensor": a.sensor.code,
                "sensor_name": a.sensor.name,
                "kind": a.kind,
                "message": str(kinds.get(a.kind, a.kind)),
                "lon": a.sensor.location.x,
                "lat": a.sensor.location.y,
                "url": f"/sensors/{a.sensor_id}/",
            },
        }
        for a in rows
    ]


def _people(user) -> dict:
    """Households and residents of the visible grids, from the precomputed GridFigures."""
    per_grid = current_figures()
    ids = Grid.objects.visible_to(user).current().values_list("pk", flat=True)
    households = residents = 0
    for pk in list(ids) + ([None] if scoping.sees_unassigned(user) else []):
        figures = per_grid.get(pk)
        if figures is not None:
            households += figures.households
            residents += figures.residents
    return {"households": households, "residents": residents}


def _colours(user) -> dict:
    counts = dict(
        Grid.objects.visible_to(user)
        .current()
        .order_by()
        .values_list("colour")
        .annotate(n=Count("pk"))
    )
    return {c: counts.get(c, 0) for c in Colour.values}


def _ledger_region(user) -> Region | None:
    if scoping.sees_everything(user):
        return Region.objects.current().filter(level="district").order_by("code").first()
    if user.role == "grid_worker" and user.grid_id:
        return user.grid.community
    return scoping.jurisdiction_region(user)


def _ledger(user, today) -> dict:
    """The grids' ledgers of the month falling due now (last month's), submitted or not."""
    period = Period.containing(today, PeriodType.MONTH).previous()
    region = _ledger_region(user)
    statuses = ledger_completeness(period, region, "grid") if region else []
    visible = set(
        Grid.objects.visible_to(user)
        .filter(pk__in=[s.unit.pk for s in statuses])
        .values_list("pk", flat=True)
    )
    rates = summary([s for s in statuses if s.unit.pk in visible])
    return {"period": period.key, "period_label": period.label, **rates}


def compute(user) -> dict:
    today = timezone.localdate()
    scope = scope_of(user)
    visible = inc.visible_incidents(user)
    sensors, alerts = _sensors(user)
    feed = inc.recent(visible, today) + _recent_alerts(user)
    feed.sort(key=lambda row: row["at"], reverse=True)
    return {
        "scope": scope,
        "today": today.isoformat(),
        "computed_at": timezone.now().isoformat(),
        "incidents": inc.kpis(visible, today),
        "sensors": sensors,
        "alerts": alerts,
        "people": _people(user),
        "ledger": _ledger(user, today),
        "colours": _colours(user),
        "by_category": inc.by_category(visible, today),
        "by_area": inc.by_area(visible, today, scope["level"]),
        "trend": inc.trend(visible, today),
        "departments": inc.departments(visible, today),
        "feed": feed,
    }
