"""The incident figures of the wall screen, from the incidents the user may see: today, open,
overdue, whistled, closure and on-time rates, by category, by area, the 30-day trend and the
departments' ratings. Each is one GROUP BY on stored keys (incidents.services.metrics'
definitions: cases are incidents neither merged nor dismissed)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from incidents.models import Incident, Status
from incidents.services.metrics import DONE, cases

# The trend and the by-category/by-area charts look back this many days; ratings longer,
# because departments are rated on few closed cases a month.
DAYS = 30
RATING_DAYS = 90
TOP_CATEGORIES = 10
TOP_DEPARTMENTS = 8
FEED_ROWS = 20
# What the by-area chart groups by, from the level the screen shows.
AREA_BELOW = {"district": "street", "street": "community", "community": "grid", "grid": "grid"}
AREA_KEYS = {
    "street": ("street__code", "street__name"),
    "community": ("community__code", "community__name"),
    "grid": ("grid__code", "grid__name"),
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def kpis(visible, today: dt.date) -> dict:
    since = _start_of(today)
    month_ago = _start_of(today - dt.timedelta(days=DAYS - 1))
    done = Q(status__in=DONE)
    live = visible.filter(merged_into__isnull=True)
    # Open ones and today's: a few per cent of the table, not a year of closed cases.
    now = live.filter(~done | Q(reported_at__gte=since)).aggregate(
        today=Count("id", filter=Q(reported_at__gte=since)),
        open=Count("id", filter=~done),
        overdue=Count("id", filter=~done & Q(step_overdue=True)),
        whistled=Count("id", filter=~done & Q(whistle_class__isnull=False)),
    )
    month = (
        cases(visible)
        .filter(reported_at__gte=month_ago)
        .aggregate(
            cases=Count("id"),
            closed=Count("id", filter=done),
            closed_on_time=Count("id", filter=done & Q(overdue_count=0)),
            whistled=Count("id", filter=Q(whistle_class__isnull=False)),
        )
    )
    return {
        "incidents_today": now["today"],
        "incidents_open": now["open"],
        "incidents_overdue": now["overdue"],
        "whistled_open": now["whistled"],
        "whistled_30d": month["whistled"],
        "cases_30d": month["cases"],
        "closure_rate": _rate(month["closed"], month["cases"]),
        "on_time_rate": _rate(month["closed_on_time"], month["closed"]),
    }


def by_category(visible, today: dt.date) -> list[dict]:
    """Cases of the last 30 days by top-level category."""
    rows = (
        cases(visible)
        .filter(reported_at__gte=_start_of(today - dt.timedelta(days=DAYS - 1)))
        .order_by()
        .values(name=Coalesce(F("category__parent__name"), F("category__name")))
        .annotate(n=Count("id"))
        .order_by("-n", "name")
    )
    return list(rows[:TOP_CATEGORIES])


def by_area(visible, today: dt.date, level: str) -> dict:
    """Cases of the last 30 days and open ones by the level below the screen's."""
    below = AREA_BELOW.get(level, "street")
    code, name = AREA_KEYS[below]
    rows = (
        cases(visible)
        .filter(
            Q(reported_at__gte=_start_of(today - dt.timedelta(days=DAYS - 1)))
            | ~Q(status__in=DONE),
            **{f"{code}__isnull": False},
        )
        .order_by()
        .values(code=F(code), name=F(name))
        .annotate(
            n=Count(
                "id",
                filter=Q(reported_at__gte=_start_of(today - dt.timedelta(days=DAYS - 1))),
            ),
            open=Count("id", filter=~Q(status__in=DONE)),
        )
        .order_by("code")
    )
    return {"level": below, "rows": list(rows)}


def trend(visible, today: dt.date) -> list[dict]:
    """Reported and closed per day over the last 30 days (the local day)."""
    first = today - dt.timedelta(days=DAYS - 1)
    start = _start_of(first)
    tz = timezone.get_current_timezone()
    reported = dict(
        visible.filter(merged_into__isnull=True, reported_at__gte=start)
        .order_by()
        .values_list(TruncDate("reported_at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    closed = dict(
        cases(visible)
        .filter(closed_at__gte=start)
        .order_by()
        .values_list(TruncDate("closed_at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    return [
        {"day": d.isoformat(), "reported": reported.get(d, 0), "closed": closed.get(d, 0)}
        for d in days
    ]


def departments(visible, today: dt.date) -> list[dict]:
    """The departments that handled the user's incidents in the last 90 days: cases, on-time
    rate and the dispatchers' mean rating (1-5) of their handling."""
    done = Q(status__in=DONE)
    rows = (
        cases(visible)
        .filter(
            reported_at__gte=_start_of(today - dt.timedelta(days=RATING_DAYS - 1)),
            handler_level="department",
            department__isnull=False,
        )
        .order_by()
        .values(name=F("department__name"))
        .annotate(
            cases=Count("id"),
            closed=Count("id", filter=done),
            on_time=Count("id", filter=done & Q(overdue_count=0)),
            score=Avg("department_score"),
            satisfaction=Avg("satisfaction"),
        )
        .order_by("-cases", "name")
    )
    result = []
    for row in rows[:TOP_DEPARTMENTS]:
        result.append(
            {
                "name": row["name"],
                "cases": row["cases"],
                "on_time_rate": _rate(row["on_time"], row["closed"]),
                "score": round(float(row["score"]), 2) if row["score"] is not None else None,
                "satisfaction": (
                    round(float(row["satisfaction"]), 2)
                    if row["satisfaction"] is not None
                    else None
                ),
            }
        )
    return result


def recent(visible, today: dt.date) -> list[dict]:
    """The newest incidents of the last 30 days, as the live feed's incident objects
    (live.services); the bound keeps a district's sort to a month of rows."""
    labels = dict(Status.choices)
    rows = (
        visible.filter(
            merged_into__isnull=True,
            reported_at__gte=_start_of(today - dt.timedelta(days=DAYS - 1)),
        )
        .order_by("-reported_at", "-id")
        .queue_rows()[:FEED_ROWS]
    )
    return [
        {
            "kind": "incident",
            "at": row["reported_at"].isoformat(),
            "object": {
                "id": row["id"],
                "title": row["title"],
                "status": row["status"],
                "status_label": str(labels.get(row["status"], row["status"])),
                "category": row["category_code"],
                "category_name": row["category_name"],
                "grid": row["grid_code"],
                "lon": row["lon"],
                "lat": row["lat"],
                "url": f"/incidents/{row['id']}/",
            },
        }
        for row in rows
    ]


def visible_incidents(user):
    return Incident.objects.visible_to(user)
