"""A month of needs and services for the demo district (issue #20).

Every community gets its services list (服务清单): some of its own units (grids.Unit), a few
co-building units (共建单位, serving their street's neighbouring communities too), volunteers
and 10–40 registered party members (报到党员), most confirmed, a few still waiting (双报到) or
suspended; each offers one to three of the 15 service kinds, and every kind is offered to
every community by someone. Then 30–50 needs per community over the last 30 days
(Cisongtang's month: a list of 42, 36 微心愿 fulfilled), each with a timeline the services
could have written (needs.services.demo_timeline): raised, reviewed (a few declined with a
reason, a few merged into an open duplicate), dispatched to an eligible offer with room,
sometimes declined by the provider and dispatched again, taken, reported with hours,
confirmed with satisfaction; overdue where a step ran past the need's due time; cut at
`now`, so recent needs are still open at their step. A demo smaller than the small scale
(the tests' 3,000 households) gets proportionally fewer people and needs per community.

No photos: a demo photo would be a generated picture standing for nothing; the pages show a
need without photos as they would. Rows are written with bulk_create; the same seed and `now`
give the same data. Two demo logins act as providers: `provider` (a party member of the
community of the `community` and `gridworker` logins) and `unitprovider` (a unit's contact).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from grids.models import GridBoundary, Household, Region, Role, Unit, User
from grids.models.tree import Level
from grids.services import demo as grids_demo
from grids.signals import announce
from needs.models import (
    Need,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
    ServiceOffer,
)
from needs.services import demo_reports, demo_timeline
from needs.services.demo_words import (
    CO_BUILDING_NAMES,
    KINDS_OFFERED,
    PARTY_ORGANISATIONS,
    person_name,
    phone,
)

SEED = 20_2026
DAYS = 30
SMALL = grids_demo.SCALES["small"]
NEEDS_PER_COMMUNITY = (30, 50)
PARTY_PER_COMMUNITY = (10, 40)
VOLUNTEERS_PER_COMMUNITY = (4, 12)
UNITS_PER_COMMUNITY = (2, 5)
CO_BUILDING_PER_COMMUNITY = (1, 3)
PENDING_P = 0.06  # registrations (双报到) the community has not confirmed yet
SUSPENDED_P = 0.02
HOMES_PER_GRID = 12  # households read per grid: where needs are raised and people live
DEMO_PROVIDER = "provider"
DEMO_UNIT_PROVIDER = "unitprovider"


@dataclass
class NeedsDemoResult:
    providers: int
    offers: int
    needs: int
    dispatches: int
    events: int
    forms_installed: int = 0
    figures_kept: int = 0


@dataclass
class Place:
    grid: int
    community: int
    x: float
    y: float
    household: int | None = None
    address: str = ""


def households_of(scale) -> int:
    if isinstance(scale, str) and not scale.isdigit():
        return grids_demo.SCALES[scale]
    return int(scale)


def missing() -> bool:
    """The demo district lacks its needs month (an app added after the demo was built) or
    their 一表通 part (demo_reports): `demo --if-empty` then builds what is missing."""
    return grids_demo.exists() and (not _month_built() or demo_reports.missing())


def _month_built() -> bool:
    return Need.objects.exists() or Provider.objects.exists()


def _span(rng: random.Random, bounds: tuple[int, int], factor: float, least: int = 1) -> int:
    return max(least, round(rng.randint(*bounds) * factor))


def _homes() -> dict[int, list[Place]]:
    """A few households of every grid (the first by id: demo households are placed at random
    within their grid), by community, in one query."""
    rows = (
        Household.objects.filter(grid__isnull=False)
        .annotate(rank=Window(RowNumber(), partition_by=[F("grid_id")], order_by=F("pk").asc()))
        .filter(rank__lte=HOMES_PER_GRID)
        .values_list("pk", "grid_id", "grid__community_id", "location", "address")
    )
    homes: dict[int, list[Place]] = {}
    for pk, grid, community, point, address in rows.order_by("grid_id", "pk"):
        homes.setdefault(community, []).append(
            Place(grid, community, point.x, point.y, pk, address[:200])
        )
    return homes


def _grid_points(on: dt.date) -> dict[int, list[Place]]:
    """Each current grid's point on surface, by community: where a community with no demo
    household (a tiny demo) places its people and needs."""
    rows = (
        GridBoundary.objects.current()
        .filter(grid__valid_to__isnull=True)
        .annotate(point=PointOnSurface("geom"))
        .values_list("grid_id", "grid__community_id", "point", "grid__name")
        .order_by("grid_id")
    )
    points: dict[int, list[Place]] = {}
    for grid, community, point, name in rows:
        points.setdefault(community, []).append(
            Place(grid, community, point.x, point.y, None, name)
        )
    return points


def _units() -> dict[int, list[Unit]]:
    rows = (
        Unit.objects.filter(removed_on__isnull=True, grid__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("grid__community_id")], order_by=F("pk").asc())
        )
        .filter(rank__lte=UNITS_PER_COMMUNITY[1])
        .select_related("grid")
        .order_by("pk")
    )
    units: dict[int, list[Unit]] = {}
    for unit in rows:
        units.setdefault(unit.grid.community_id, []).append(unit)
    return units


def build(
    scale="small", progress=None, now: dt.datetime | None = None
) -> NeedsDemoResult | demo_reports.NeedsReportsResult:
    """The month of needs and services, once: a district that has needs or providers keeps
    them and only gets what its 一表通 lacks (demo_reports.bring_up_to_date)."""
    now = now or timezone.now()
    if _month_built():
        return demo_reports.bring_up_to_date(timezone.localdate(now))
    rng = random.Random(SEED)
    factor = min(1.0, households_of(scale) / SMALL)
    kinds = {k.code: k for k in ServiceKind.objects.filter(active=True)}
    communities = list(
        Region.objects.current()
        .filter(level=Level.COMMUNITY)
        .order_by("code")
        .only("pk", "code", "name", "parent_id")
    )
    homes = _homes()
    grid_points = _grid_points(timezone.localdate(now))
    places = {c.pk: homes.get(c.pk) or grid_points.get(c.pk, []) for c in communities}
    communities = [c for c in communities if places[c.pk]]
    staff = dict(
        User.objects.filter(role=Role.COMMUNITY_STAFF, region__isnull=False)
        .order_by("region_id", "-is_staff", "pk")
        .values_list("region_id", "pk")
        .distinct("region_id")
    )
    workers = dict(
        User.objects.filter(role=Role.GRID_WORKER, grid__isnull=False)
        .order_by("grid_id", "pk")
        .values_list("grid_id", "pk")
        .distinct("grid_id")
    )
    named = {u.username: u for u in User.objects.filter(username__in=["community", "gridworker"])}
    if "community" in named and named["community"].region_id:
        staff[named["community"].region_id] = named["community"].pk
    if "gridworker" in named and named["gridworker"].grid_id:
        workers[named["gridworker"].grid_id] = named["gridworker"].pk
    demo_community = named["community"].region_id if "community" in named else None
    with transaction.atomic():
        services = _services(rng, communities, places, _units(), kinds, factor, now, demo_community)
        written = demo_timeline.write(
            rng,
            communities=communities,
            places=places,
            services=services,
            kinds=kinds,
            staff=staff,
            workers=workers,
            per_community=lambda: _span(rng, NEEDS_PER_COMMUNITY, factor, 3),
            start=now - dt.timedelta(days=DAYS),
            now=now,
            demo_community=demo_community,
            demo_grid=named["gridworker"].grid_id if "gridworker" in named else None,
            progress=progress,
        )
    # Bulk writes send no post_save: the map's tiles and the kept figures of past periods
    # are told here (after the commit).
    announce(Need)
    announce(Provider)
    from reports.services import snapshots

    snapshots.drop_since(timezone.localdate(now) - dt.timedelta(days=DAYS + 1))
    # The 组织部 form shows the past months' needs figures: kept now, not on the first read.
    reports = demo_reports.bring_up_to_date(timezone.localdate(now))
    return NeedsDemoResult(
        providers=services.providers,
        offers=services.offers,
        needs=written.needs,
        dispatches=written.dispatches,
        events=written.events,
        forms_installed=reports.forms_installed,
        figures_kept=reports.figures_kept,
    )


@dataclass
class Services:
    """The services list as the timelines need it: per community and kind, the offers that
    serve it (offer pk, provider pk, capacity, radius, provider's point, provider's users)."""

    by_community_kind: dict[tuple[int, str], list[demo_timeline.Offer]]
    providers: int
    offers: int
    demo_provider: int | None = None
    demo_unit_provider: int | None = None


def _services(rng, communities, places, units, kinds, factor, now, demo_community) -> Services:
    providers: list[Provider] = []
    offers: list[tuple[int, ServiceOffer, list[int]]] = []  # (provider index, offer, area)
    by_street: dict[int, list[Region]] = {}
    for c in communities:
        by_street.setdefault(c.parent_id, []).append(c)
    start = now - dt.timedelta(days=400)

    def add(kind, name, community, place, *, unit=None, organisation="", tel="", status=None):
        if status is None:
            r = rng.random()
            status = (
                ProviderStatus.PENDING
                if r < PENDING_P
                else ProviderStatus.SUSPENDED
                if r < PENDING_P + SUSPENDED_P
                else ProviderStatus.CONFIRMED
            )
        registered = start + dt.timedelta(seconds=rng.uniform(0, 390 * 86400))
        located = status != ProviderStatus.PENDING or rng.random() < 0.5
        confirmed = status in (ProviderStatus.CONFIRMED, ProviderStatus.SUSPENDED)
        providers.append(
            Provider(
                kind=kind,
                name=name[:100],
                unit=unit,
                organisation=organisation[:100],
                phone=tel,
                community_id=community.pk,
                location=_point(place) if located else None,
                grid_id=place.grid if located else None,
                status=status,
                registered_at=registered,
                confirmed_at=registered + dt.timedelta(hours=rng.uniform(2, 96))
                if confirmed
                else None,
                confirmed_by_id=None,
            )
        )
        return len(providers) - 1

    def offer(index, kind_code, area, *, radius=None, capacity=None):
        offers.append(
            (
                index,
                ServiceOffer(
                    kind=kinds[kind_code],
                    description=kinds[kind_code].description[:200],
                    capacity=capacity or rng.choice((1, 1, 2, 2, 3)),
                    radius_m=radius,
                    availability=rng.choice(AVAILABILITY),
                    active=True,
                ),
                area,
            )
        )

    demo_provider = demo_unit_provider = None
    for c in communities:
        first = (len(providers), len(offers))
        home = places[c.pk]
        neighbours = [n.pk for n in by_street[c.parent_id] if n.pk != c.pk]
        for unit in units.get(c.pk, [])[: _span(rng, UNITS_PER_COMMUNITY, 1.0)]:
            place = Place(unit.grid_id, c.pk, unit.location.x, unit.location.y)
            i = add(
                ProviderKind.UNIT,
                unit.name,
                c,
                place,
                unit=unit,
                organisation=unit.name,
                tel=unit.contact_phone,
            )
            for code in rng.sample(KINDS_OFFERED["unit"], rng.randint(1, 2)):
                offer(i, code, [c.pk])
            if c.pk == demo_community and demo_unit_provider is None:
                providers[i].status = ProviderStatus.CONFIRMED
                providers[i].confirmed_at = providers[i].confirmed_at or providers[i].registered_at
                demo_unit_provider = i
        for _ in range(_span(rng, CO_BUILDING_PER_COMMUNITY, 1.0)):
            name = rng.choice(CO_BUILDING_NAMES)
            i = add(
                ProviderKind.CO_BUILDING,
                name,
                c,
                rng.choice(home),
                organisation="区直机关工委",
                status=ProviderStatus.CONFIRMED if c.pk == demo_community else None,
            )
            if c.pk == demo_community and demo_unit_provider is None:
                # No unit of the demo community (a tiny demo): a co-building unit's contact.
                demo_unit_provider = i
            area = [c.pk, *rng.sample(neighbours, min(len(neighbours), rng.randint(0, 2)))]
            for code in rng.sample(KINDS_OFFERED["co_building"], rng.randint(2, 3)):
                offer(i, code, area)
        for _ in range(_span(rng, VOLUNTEERS_PER_COMMUNITY, factor)):
            i = add(ProviderKind.VOLUNTEER, person_name(rng), c, rng.choice(home), tel=phone(rng))
            for code in rng.sample(KINDS_OFFERED["volunteer"], rng.randint(1, 2)):
                offer(i, code, [c.pk], radius=rng.choice((None, None, 3000)))
        for n in range(_span(rng, PARTY_PER_COMMUNITY, factor, 2)):
            demo = c.pk == demo_community and n == 0
            i = add(
                ProviderKind.PARTY_MEMBER,
                person_name(rng),
                c,
                rng.choice(home),
                organisation=rng.choice(PARTY_ORGANISATIONS),
                tel=phone(rng),
                status=ProviderStatus.CONFIRMED if demo else None,
            )
            codes = rng.sample(KINDS_OFFERED["party_member"], 3 if demo else rng.randint(1, 2))
            for code in codes:
                offer(
                    i,
                    code,
                    [c.pk],
                    radius=rng.choice((None, None, 5000)),
                    capacity=3 if demo else None,
                )
            if demo:
                demo_provider = i
        # Every kind is offered to the community by someone (a community lists what it can
        # match): the kinds nobody offers go to its confirmed people, one each.
        _cover(rng, c, providers, offers, kinds, offer, first)
    for index, o, _ in offers:
        if index in (demo_provider, demo_unit_provider):
            o.capacity = 3  # room for the needs scripted for the demo logins
    Provider.objects.bulk_create(providers, batch_size=2000)
    rows = [o for _, o, _ in offers]
    for index, o, _ in offers:
        o.provider_id = providers[index].pk
    ServiceOffer.objects.bulk_create(rows, batch_size=2000)
    ServiceOffer.area.through.objects.bulk_create(
        [
            ServiceOffer.area.through(serviceoffer_id=o.pk, region_id=r)
            for _, o, area in offers
            for r in dict.fromkeys(area)
        ],
        batch_size=5000,
    )
    users = _demo_users(providers, demo_provider, demo_unit_provider)
    by_community_kind: dict[tuple[int, str], list[demo_timeline.Offer]] = {}
    for index, o, area in offers:
        p = providers[index]
        if p.status != ProviderStatus.CONFIRMED:
            continue
        entry = demo_timeline.Offer(
            pk=o.pk,
            provider=p.pk,
            capacity=o.capacity,
            radius=o.radius_m,
            x=p.location.x,
            y=p.location.y,
            user=users.get(index),
            kind=o.kind.code,
        )
        for r in dict.fromkeys(area):
            by_community_kind.setdefault((r, o.kind.code), []).append(entry)
    return Services(
        by_community_kind,
        providers=len(providers),
        offers=len(rows),
        demo_provider=providers[demo_provider].pk if demo_provider is not None else None,
        demo_unit_provider=providers[demo_unit_provider].pk
        if demo_unit_provider is not None
        else None,
    )


AVAILABILITY = ["周末全天", "工作日晚上", "工作日白天", "随时联系", "每周二、四下午", "节假日"]


def _cover(rng, community, providers, offers, kinds, offer, first) -> None:
    # Only the community's own providers are looked at (they were added since `first`):
    # a neighbour's co-building unit may serve it too, which only adds to what it offers.
    offered = {
        o.kind.code
        for index, o, area in offers[first[1] :]
        if community.pk in area and providers[index].status == ProviderStatus.CONFIRMED
    }
    people = [
        i
        for i in range(first[0], len(providers))
        if providers[i].status == ProviderStatus.CONFIRMED
    ]
    for code in sorted(set(kinds) - offered):
        if people:
            offer(rng.choice(people), code, [community.pk])


def _point(place: Place):
    from django.contrib.gis.geos import Point

    from grids.models import SRID

    return Point(place.x, place.y, srid=SRID)


def _demo_users(providers, demo_provider, demo_unit_provider) -> dict[int, int]:
    """The two demo provider logins, linked to their providers: {provider index: user pk}."""
    password = make_password(grids_demo.demo_password())
    found = {}
    for username, index, label in (
        (DEMO_PROVIDER, demo_provider, "{name}"),
        (DEMO_UNIT_PROVIDER, demo_unit_provider, "{name}联系人"),
    ):
        if index is None:
            continue
        p = providers[index]
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "role": Role.PROVIDER,
                "region": None,
                "grid": None,
                "department": None,
                "first_name": label.format(name=p.name)[:150],
                "password": password,
                "is_active": True,
            },
        )
        p.users.add(user)
        found[index] = user.pk
    return found


def demo_provider_ids() -> dict[str, list[int]]:
    """The providers the demo logins act for (tests and the closing note use it)."""
    return {
        name: list(Provider.objects.filter(users__username=name).values_list("pk", flat=True))
        for name in (DEMO_PROVIDER, DEMO_UNIT_PROVIDER)
    }


@transaction.atomic
def remove() -> None:
    """Remove every need, provider and offer and the two demo provider logins (a rebuild of
    this part alone: the bench, a test)."""
    from needs.models import Dispatch, NeedEvent, NeedPhoto

    NeedEvent.objects.all().delete()
    NeedPhoto.objects.all().delete()
    Dispatch.objects.all().delete()
    Need.objects.exclude(merged_into=None).update(merged_into=None)
    Need.objects.all().delete()
    ServiceOffer.objects.all().delete()
    Provider.objects.all().delete()
    User.objects.filter(username__in=[DEMO_PROVIDER, DEMO_UNIT_PROVIDER]).delete()
    announce(Need)
    announce(Provider)
