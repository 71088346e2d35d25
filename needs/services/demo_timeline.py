"""The demo's needs with their timelines (needs.services.demo builds the services list first).

Each need's history is what the services would have written, in order: raised → reviewed
(accepted, declined with a reason, or merged into an open need of the same kind and place)
→ dispatched to an eligible offer (the need's community in its area, within its radius,
room left on it) → sometimes declined by the provider and dispatched again → taken →
reported with the hours served → confirmed with satisfaction. A reminder where a provider
answered after its respond-by time, an overdue event where the need was still open at its
due time. Every step after `now` is left out, so the newest needs stand at their step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone

from grids.models import SRID
from needs.models import (
    Dispatch,
    DispatchStatus,
    Need,
    NeedAction,
    NeedEvent,
    NeedSource,
    NeedStatus,
    Urgency,
)
from needs.services import demo_words as words

DECLINE_P = 0.07
MERGE_P = 0.05
URGENT_P = 0.12
PROVIDER_DECLINE_P = 0.10
SLOW_P = 0.06  # served late: past the kind's days to fulfil
LOCATED_P = 0.9
HOUSEHOLD_P = 0.8
SOURCES = [NeedSource.GRID_WORKER, NeedSource.STAFF, NeedSource.PUBLIC]
SOURCE_W = [0.55, 0.25, 0.20]
SATISFACTION_W = {5: 0.62, 4: 0.27, 3: 0.08, 2: 0.02, 1: 0.01}
NEAREST = 6  # a dispatch goes to one of the nearest eligible offers


@dataclass
class Offer:
    pk: int
    provider: int
    capacity: int
    radius: int | None
    x: float
    y: float
    user: int | None = None
    kind: str = ""
    open: int = 0  # dispatches open on it at `now`


@dataclass
class Written:
    needs: int
    dispatches: int
    events: int


@dataclass
class Plan:
    need: Need
    place: object
    events: list = field(
        default_factory=list
    )  # (at, action, status or None, actor, provider, comment, data)
    dispatches: list = field(default_factory=list)
    closes: dt.datetime | None = None
    into: Plan | None = None

    def add(self, at, action, status=None, actor=None, provider=None, comment="", data=None):
        self.events.append((at, action, status, actor, provider, comment, data or {}))
        if status is not None:
            self.need.status = status


def _h(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


def _delay(rng, mean: float, low: float, high: float) -> dt.timedelta:
    return _h(min(high, max(low, rng.expovariate(1 / mean))))


def _metres(ax, ay, bx, by) -> float:
    # Equirectangular: distances within a community (a few km), where it is exact to 0.1 %.
    k = math.cos(math.radians((ay + by) / 2))
    return math.hypot((ax - bx) * 111_320 * k, (ay - by) * 110_574)


def write(
    rng,
    *,
    communities,
    places,
    services,
    kinds,
    staff: dict[int, int],
    workers: dict[int, int],
    per_community: Callable[[], int],
    start: dt.datetime,
    now: dt.datetime,
    demo_community: int | None,
    demo_grid: int | None,
    progress=None,
) -> Written:
    codes = list(words.KIND_WEIGHTS)
    weights = list(words.KIND_WEIGHTS.values())
    span = (now - start).total_seconds()
    plans: list[Plan] = []
    if progress is not None:
        progress.stage("needs: timelines", len(communities))
    for c in communities:
        home = places[c.pk]
        reviewer = staff.get(c.pk)
        mine: list[Plan] = []
        if c.pk == demo_community:
            mine += _scripted(rng, c, home, services, kinds, reviewer, workers, now, demo_grid)
        for raised in sorted(
            start + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(per_community())
        ):
            t1 = raised + _delay(rng, 10, 0.5, 72)
            fate = rng.random()
            target = None
            if fate < DECLINE_P + MERGE_P and fate >= DECLINE_P:
                open_then = [
                    p
                    for p in mine
                    if p.need.raised_at < raised
                    and p.need.status not in (NeedStatus.DECLINED, NeedStatus.MERGED)
                    and (p.closes is None or p.closes > t1)
                ]
                target = rng.choice(open_then) if open_then else None
            kind = target.need.kind.code if target else rng.choices(codes, weights)[0]
            place = target.place if target else rng.choice(home)
            plan = _raise(rng, c, place, kinds[kind], raised, workers, reviewer)
            if target is not None:
                plan.need.title = target.need.title
            mine.append(plan)
            if t1 > now:
                continue
            if fate < DECLINE_P:
                plan.need.reviewed_at, plan.need.reviewed_by_id = t1, reviewer
                plan.need.decline_reason = rng.choice(words.DECLINE_REASONS)
                plan.add(
                    t1,
                    NeedAction.DECLINED,
                    NeedStatus.DECLINED,
                    reviewer,
                    comment=plan.need.decline_reason,
                )
                plan.closes = t1
            elif target is not None:
                plan.need.reviewed_at, plan.need.reviewed_by_id = t1, reviewer
                plan.into = target
                plan.add(t1, NeedAction.MERGED, NeedStatus.MERGED, reviewer)
                plan.closes = t1
            else:
                _serve(rng, plan, t1, services, reviewer, workers, now)
        plans += mine
        if progress is not None:
            progress.advance()
    return _save(plans, now)


def _raise(rng, community, place, kind, raised, workers, reviewer) -> Plan:
    source = rng.choices(SOURCES, SOURCE_W)[0]
    raiser = {
        NeedSource.GRID_WORKER: workers.get(place.grid),
        NeedSource.STAFF: reviewer,
        NeedSource.PUBLIC: None,
    }[source]
    title = words.title(rng, kind.code)
    located = rng.random() < LOCATED_P
    household = (
        place.household if source != NeedSource.PUBLIC and rng.random() < HOUSEHOLD_P else None
    )
    need = Need(
        kind=kind,
        title=title,
        description=f"{title}。{rng.choice(words.DETAILS)}",
        urgency=Urgency.URGENT if rng.random() < URGENT_P else Urgency.NORMAL,
        source=source,
        status=NeedStatus.SUBMITTED,
        grid_id=place.grid,
        community_id=community.pk,
        location=Point(place.x, place.y, srid=SRID) if located or household else None,
        address=place.address or community.name,
        household_id=household,
        contact_name=words.person_name(rng),
        contact_phone=words.phone(rng),
        raised_by_id=raiser,
        raised_at=raised,
        submitter=hashlib.sha256(f"demo-{rng.random()}".encode()).hexdigest()
        if source == NeedSource.PUBLIC
        else "",
    )
    plan = Plan(need, place)
    plan.add(raised, NeedAction.RAISED, NeedStatus.SUBMITTED, raiser)
    return plan


def _steps(rng, days: int, t: dt.datetime, due: dt.datetime):
    """Taken, reported and confirmed times of a dispatch sent at `t` for a need due in
    `days` days at `due`: most are served in time (a provider plans for the due day), a few
    late."""
    taken = t + _delay(rng, 6, 0.2, 40)
    if rng.random() < SLOW_P:
        reported = taken + dt.timedelta(days=days * rng.uniform(1.1, 2.0))
    else:
        reported = taken + max(_h(2), dt.timedelta(days=days * rng.uniform(0.1, 0.6)))
        if reported > due - _h(2) > taken + _h(1):
            reported = taken + (due - _h(2) - taken) * rng.uniform(0.5, 1.0)
    return taken, reported, reported + _delay(rng, 20, 1, 96)


def _pick(rng, services, plan: Plan, tried: set[int], open_at_now: bool) -> Offer | None:
    need = plan.need
    x, y = plan.place.x, plan.place.y
    found = []
    for o in services.by_community_kind.get((need.community_id, need.kind.code), []):
        if o.provider in tried or (open_at_now and o.open >= o.capacity):
            continue
        d = _metres(x, y, o.x, o.y)
        if o.radius is not None and d > o.radius:
            continue
        found.append((d, o.pk, o))
    found.sort(key=lambda f: f[:2])
    return rng.choice(found[:NEAREST])[2] if found else None


def _serve(rng, plan: Plan, t1, services, reviewer, workers, now, *, offer=None, sent=None,
           stop=None):  # fmt: skip
    """Accepted at t1, then dispatched until served (or the timeline reaches `now`). `offer`,
    `sent` and `stop` script a demo login's dispatch: sent to that offer at that time, its
    taken, reported and confirmed times given."""
    need = plan.need
    need.reviewed_at, need.reviewed_by_id = t1, reviewer
    days = 2 if need.urgency == Urgency.URGENT else need.kind.days_to_fulfil
    need.due_at = t1 + dt.timedelta(days=days)
    plan.add(t1, NeedAction.ACCEPTED, NeedStatus.ACCEPTED, reviewer)
    t = sent or t1 + _delay(rng, 8, 0.3, 48)
    tried: set[int] = set()
    confirmed = None
    while t <= now:
        respond_by = t + _h(settings.GRIDLINE_NEEDS_ACCEPT_HOURS)
        declines = offer is None and len(tried) < 2 and rng.random() < PROVIDER_DECLINE_P
        turned = t + _delay(rng, 8, 1, 40)
        if declines and turned <= now:
            chosen = _pick(rng, services, plan, tried, False)
            if chosen is None:
                break
            tried.add(chosen.provider)
            d = _dispatch(plan, chosen, t, respond_by, reviewer)
            _remind(plan, d, chosen, respond_by, turned, now)
            d.status, d.decline_reason = (
                DispatchStatus.DECLINED,
                rng.choice(words.PROVIDER_DECLINE_REASONS),
            )
            d.version += 1
            plan.add(
                turned,
                NeedAction.DECLINED_BY_PROVIDER,
                NeedStatus.ACCEPTED,
                chosen.user or reviewer,
                chosen.provider,
                d.decline_reason,
            )
            t = turned + _delay(rng, 4, 0.5, 24)
            continue
        taken, reported, confirmed = _steps(rng, days, t, need.due_at)
        if stop is not None:
            taken, reported, confirmed = stop
        chosen = offer or _pick(rng, services, plan, tried, confirmed > now)
        if chosen is None:
            confirmed = None
            break
        if confirmed > now:
            chosen.open += 1
        d = _dispatch(plan, chosen, t, respond_by, reviewer)
        _remind(plan, d, chosen, respond_by, taken, now)
        actor = chosen.user or reviewer
        if taken <= now:
            d.status, d.accepted_at, d.accepted_by_id = DispatchStatus.ACCEPTED, taken, actor
            d.version += 1
            plan.add(taken, NeedAction.TAKEN, NeedStatus.TAKEN, actor, chosen.provider)
        if reported <= now:
            d.status, d.reported_at, d.reported_by_id = DispatchStatus.REPORTED, reported, actor
            d.report = rng.choice(words.REPORTS)
            d.hours = Decimal(str(round(min(24.0, max(0.5, rng.lognormvariate(0.8, 0.6))), 1)))
            d.version += 1
            need.fulfilled_at = reported
            plan.add(reported, NeedAction.REPORTED, NeedStatus.REPORTED, actor, chosen.provider,
                     d.report, {"hours": str(d.hours)})  # fmt: skip
        if confirmed <= now:
            by = workers.get(need.grid_id) if rng.random() < 0.7 else reviewer
            score = rng.choices(list(SATISFACTION_W), list(SATISFACTION_W.values()))[0]
            d.status = DispatchStatus.CONFIRMED
            d.version += 1
            need.confirmed_at, need.confirmed_by_id = confirmed, by or reviewer
            need.satisfaction, need.feedback = score, rng.choice(words.FEEDBACK)
            plan.add(confirmed, NeedAction.CONFIRMED, NeedStatus.DONE, by or reviewer,
                     chosen.provider, need.feedback, {"satisfaction": score})  # fmt: skip
            plan.closes = confirmed
        else:
            confirmed = None
        break
    # Overdue when the need was not served (reported) by its due time: the resident's
    # confirmation afterwards is not the provider's delay.
    served = need.fulfilled_at or now
    if need.due_at <= now and served > need.due_at:
        need.overdue = True
        plan.add(need.due_at, NeedAction.OVERDUE)


def _dispatch(plan: Plan, offer: Offer, t, respond_by, reviewer) -> Dispatch:
    d = Dispatch(
        provider_id=offer.provider,
        offer_id=offer.pk,
        status=DispatchStatus.SENT,
        dispatched_by_id=reviewer,
        dispatched_at=t,
        respond_by=respond_by,
    )
    plan.dispatches.append(d)
    plan.add(t, NeedAction.DISPATCHED, NeedStatus.DISPATCHED, reviewer, offer.provider,
             data={"provider": offer.provider, "offer": offer.pk})  # fmt: skip
    return d


def _remind(plan: Plan, d: Dispatch, offer: Offer, respond_by, answered, now) -> None:
    """The clock reminded a provider who had not answered by its respond-by time."""
    if respond_by < answered and respond_by <= now:
        d.reminded = True
        d.version += 1
        plan.add(respond_by, NeedAction.REMINDED, None, None, offer.provider)


def _scripted(rng, community, home, services, kinds, reviewer, workers, now, grid) -> list[Plan]:
    """The needs the demo logins find waiting: for `provider` two dispatches to answer, one
    being served, one reported (for `gridworker` to confirm); for `unitprovider` one to
    answer and one being served; and one need to review and one to dispatch in the grid of
    `gridworker`. Times are counted back from `now` (hours: raised, accepted, sent, taken,
    reported)."""
    places = [p for p in home if p.grid == grid] or home
    logins = {"provider": services.demo_provider, "unitprovider": services.demo_unit_provider}
    offers = [o for o in _all_offers(services) if o.provider in logins.values()]
    plans = []
    scripts = [
        ("provider", (30, 26, 20, None, None)),
        ("provider", (10, 8, 3, None, None)),
        ("provider", (72, 68, 60, 52, None)),
        ("provider", (120, 115, 110, 100, 20)),
        ("unitprovider", (20, 18, 6, None, None)),
        ("unitprovider", (96, 90, 80, 70, None)),
        (None, (2, None, None, None, None)),
        (None, (20, 10, None, None, None)),
    ]
    later = now + _h(1000)
    for who, (raised, accepted, sent, taken, reported) in scripts:
        offer = None
        if who is not None:
            offer = next(
                (o for o in offers if o.provider == logins[who] and o.open < o.capacity), None
            )
            if offer is None:
                continue
        kind = kinds[offer.kind] if offer else rng.choice(list(kinds.values()))
        plan = _raise(rng, community, rng.choice(places), kind, now - _h(raised), workers, reviewer)
        plan.need.urgency = Urgency.NORMAL
        if accepted is not None and offer is None:
            plan.need.reviewed_at = now - _h(accepted)
            plan.need.reviewed_by_id = reviewer
            plan.need.due_at = plan.need.reviewed_at + dt.timedelta(days=kind.days_to_fulfil)
            plan.add(plan.need.reviewed_at, NeedAction.ACCEPTED, NeedStatus.ACCEPTED, reviewer)
        elif accepted is not None:
            stop = (*(now - _h(h) if h is not None else later for h in (taken, reported)), later)
            _serve(rng, plan, now - _h(accepted), services, reviewer, workers, now,
                   offer=offer, sent=now - _h(sent), stop=stop)  # fmt: skip
        plans.append(plan)
    return plans


def _all_offers(services) -> list[Offer]:
    seen = {o.pk: o for offers in services.by_community_kind.values() for o in offers}
    return sorted(seen.values(), key=lambda o: o.pk)


def _save(plans: list[Plan], now: dt.datetime) -> Written:
    """Numbers by day in the order raised, statuses and versions from the events in time
    order, then needs, merges, dispatches and events in bulk."""
    plans.sort(key=lambda p: (p.need.raised_at, p.need.community_id))
    seq: dict[dt.date, int] = {}
    rows: list[tuple[Plan, list]] = []
    for p in plans:
        day = timezone.localdate(p.need.raised_at)
        seq[day] = seq.get(day, 0) + 1
        p.need.number = f"XQ{day:%Y%m%d}{seq[day]:04d}"
        ordered = sorted(p.events, key=lambda e: e[0])
        status = ""
        for e in ordered:
            status = e[2] if e[2] is not None else status
        p.need.status = status
        p.need.version = len(ordered)
        rows.append((p, ordered))
    Need.objects.bulk_create([p.need for p in plans], batch_size=2000)
    merged = []
    for p in plans:
        if p.into is not None:
            p.need.merged_into_id = p.into.need.pk
            merged.append(p.need)
    Need.objects.bulk_update(merged, ["merged_into"], batch_size=2000)
    dispatches, events = [], []
    for p, ordered in rows:
        for d in p.dispatches:
            d.need_id = p.need.pk
            dispatches.append(d)
        status = ""
        for version, (at, action, to, actor, provider, comment, data) in enumerate(ordered, 1):
            if action == NeedAction.MERGED:
                data = {"into": p.into.need.pk, "number": p.into.need.number}
            new = to if to is not None else status
            events.append(
                NeedEvent(
                    need_id=p.need.pk,
                    action=action,
                    from_status=status,
                    to_status=new,
                    actor_id=actor,
                    provider_id=provider,
                    version=version,
                    at=at,
                    comment=comment,
                    data=data,
                )
            )
            status = new
    Dispatch.objects.bulk_create(dispatches, batch_size=2000)
    NeedEvent.objects.bulk_create(events, batch_size=5000)
    return Written(len(plans), len(dispatches), len(events))
