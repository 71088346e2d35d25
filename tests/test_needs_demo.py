"""The demo month of needs and services (needs.services.demo), built once per module with the
demo district (3,000 households): every community has a services list covering the 15 kinds,
needs in every state, timelines in order and consistent with the records, dispatches only to
eligible offers with room, the demo provider logins with work waiting, scoping as for any
need; `demo --if-empty` adds the part to a district without it, once."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from grids.models import Grid, Region, Role, User
from needs import indicators
from needs.models import (
    OPEN_DISPATCH,
    Dispatch,
    DispatchStatus,
    Need,
    NeedEvent,
    NeedStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
    ServiceOffer,
)
from needs.services import demo
from reports import catalogue
from reports.models import DerivedSnapshot, Indicator, ReportTemplate
from reports.periods import Period
from reports.services import snapshots
from reports.services.ledger import sheet


@pytest.fixture
def built(district):
    return district


def test_the_command_reports_the_needs_part(built):
    assert "需求与服务" in built or "Needs and services" in built


def test_every_community_has_a_services_list_covering_every_kind(built):
    communities = set(
        Region.objects.current().filter(level="community").values_list("pk", flat=True)
    )
    confirmed = Provider.objects.filter(status=ProviderStatus.CONFIRMED)
    assert set(confirmed.values_list("community", flat=True)) == communities
    kinds = set(ServiceKind.objects.filter(active=True).values_list("pk", flat=True))
    served = defaultdict(set)
    for region, kind in ServiceOffer.objects.filter(
        active=True, provider__status=ProviderStatus.CONFIRMED
    ).values_list("area", "kind"):
        served[region].add(kind)
    assert all(served[c] == kinds for c in communities)
    # All four kinds of provider, most confirmed, some waiting (双报到) or suspended.
    by = Counter(Provider.objects.values_list("kind", "status"))
    assert {kind for kind, _ in by} == set(ProviderKind.values)
    assert {status for _, status in by} == set(ProviderStatus.values) - {ProviderStatus.REFUSED}
    # Confirmed providers have a place in a grid of their community.
    assert not confirmed.filter(Q(location=None) | Q(grid=None)).exists()
    assert not confirmed.exclude(grid__community=F("community")).exists()


def test_needs_in_every_state_over_the_last_30_days(built):
    now = timezone.now()
    statuses = Counter(Need.objects.values_list("status", flat=True))
    assert set(statuses) == set(NeedStatus.values)
    total = sum(statuses.values())
    per_community = Need.objects.values("community").annotate(n=Count("pk"))
    assert min(r["n"] for r in per_community) >= 3
    # Most are done (Cisongtang: 36 of 42), some overdue, a few declined or merged.
    assert statuses[NeedStatus.DONE] / total > 0.55
    assert 0 < Need.objects.filter(overdue=True).count() < total * 0.2
    first = Need.objects.order_by("raised_at").first().raised_at
    assert (now - first).days <= 30
    assert not Need.objects.filter(raised_at__gt=now).exists()
    # No photos in the demo (said in the module's docstring).
    assert not Need.objects.filter(photos__isnull=False).exists()


def test_timelines_are_in_order_and_agree_with_the_records(built):
    needs = {n.pk: n for n in Need.objects.select_related("kind")}
    events = defaultdict(list)
    for e in NeedEvent.objects.order_by("need", "at", "version"):
        events[e.need_id].append(e)
    for pk, need in needs.items():
        history = events[pk]
        assert history[0].action == "raised" and history[0].at == need.raised_at
        assert [e.version for e in history] == list(range(1, len(history) + 1))
        assert need.version == len(history)
        for before, after in zip(history, history[1:], strict=False):
            assert before.at <= after.at
            assert after.from_status == before.to_status
        assert history[-1].to_status == need.status
        if need.status == NeedStatus.DECLINED:
            assert need.decline_reason and need.reviewed_at >= need.raised_at
        if need.status == NeedStatus.MERGED:
            into = needs[need.merged_into_id]
            assert into.community_id == need.community_id and into.kind_id == need.kind_id
            assert into.raised_at < need.raised_at
        if need.status == NeedStatus.DONE:
            assert 1 <= need.satisfaction <= 5
            assert need.raised_at < need.reviewed_at < need.fulfilled_at < need.confirmed_at
        if need.overdue:
            assert need.due_at and any(e.action == "overdue" for e in history)


def test_dispatches_go_to_eligible_offers_with_room(built):
    areas = defaultdict(set)
    for offer, region in ServiceOffer.area.through.objects.values_list(
        "serviceoffer_id", "region_id"
    ):
        areas[offer].add(region)
    open_per_offer = Counter()
    rows = Dispatch.objects.select_related("need", "offer", "provider")
    for d in rows:
        assert d.provider.status == ProviderStatus.CONFIRMED
        assert d.offer.provider_id == d.provider_id and d.offer.kind_id == d.need.kind_id
        assert d.need.community_id in areas[d.offer_id]
        assert d.dispatched_at >= d.need.reviewed_at
        if d.accepted_at:
            assert d.accepted_at >= d.dispatched_at
        if d.reported_at:
            assert d.reported_at > d.accepted_at
            assert 0 < d.hours <= 24
        if d.status in OPEN_DISPATCH:
            open_per_offer[d.offer_id] += 1
    capacity = dict(ServiceOffer.objects.values_list("pk", "capacity"))
    assert all(n <= capacity[offer] for offer, n in open_per_offer.items())
    assert {d.status for d in rows} >= {
        DispatchStatus.SENT,
        DispatchStatus.ACCEPTED,
        DispatchStatus.DECLINED,
        DispatchStatus.REPORTED,
        DispatchStatus.CONFIRMED,
    }


def test_the_demo_provider_logins_have_work_waiting(built):
    for username in ("provider", "unitprovider"):
        user = User.objects.get(username=username)
        # The password is the demo's (hashed when the module's demo was built, before the
        # tests' fast hasher was set: compared with the other demo logins' instead).
        assert user.role == Role.PROVIDER and user.has_usable_password()
        assert user.region_id is None and user.grid_id is None
        statuses = set(Dispatch.objects.visible_to(user).values_list("status", flat=True))
        assert {DispatchStatus.SENT, DispatchStatus.ACCEPTED} <= statuses, username
    member = Provider.objects.get(users__username="provider")
    community = User.objects.get(username="community").region_id
    assert member.kind == ProviderKind.PARTY_MEMBER and member.community_id == community
    # The grid worker of the demo community has a service to confirm.
    worker = User.objects.get(username="gridworker")
    assert Need.objects.visible_to(worker).filter(status=NeedStatus.REPORTED).exists()


def test_needs_are_scoped(built):
    worker = User.objects.get(username="gridworker")
    assert set(Need.objects.visible_to(worker).values_list("grid", flat=True)) == {worker.grid_id}
    community = User.objects.get(username="community")
    assert set(Need.objects.visible_to(community).values_list("community", flat=True)) == {
        community.region_id
    }
    assert not Need.objects.visible_to(User.objects.get(username="department")).exists()
    provider = User.objects.get(username="provider")
    mine = Need.objects.visible_to(provider)
    assert mine.exists()
    assert not mine.exclude(dispatches__provider__users=provider).exists()


def test_deterministic_and_added_once_by_if_empty(built):
    def fingerprint():
        return (
            list(Need.objects.order_by("number").values_list("number", "status", "kind__code")),
            Provider.objects.count(),
            Dispatch.objects.count(),
        )

    now = timezone.now()
    demo.remove()
    demo.build(3000, now=now)
    first = fingerprint()
    demo.remove()
    assert demo.missing()
    demo.build(3000, now=now)
    assert fingerprint() == first
    # A district without the part (an app added later): `demo --if-empty` adds it, once.
    demo.remove()
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert Need.objects.exists() and not demo.missing()
    counts = (Need.objects.count(), Provider.objects.count())
    call_command("demo", "--if-empty", stdout=io.StringIO())
    assert (Need.objects.count(), Provider.objects.count()) == counts


def test_an_older_demo_gets_the_organisation_form_and_its_figures(built):
    """Review F6: a demo whose 一表通 catalogue was installed before the needs app (the served
    demo) gets the 组织部 form from `demo --if-empty` — the other templates untouched, their
    generated reports kept — and the needs figures of the past months kept, so that a
    community's ledger shows them computed; a second run changes nothing."""
    code = "organisation-needs-monthly"
    ReportTemplate.objects.filter(code=code).delete()
    snapshots.drop_since(dt.date.min)
    others = dict(ReportTemplate.objects.values_list("code", "pk"))
    assert others and demo.missing()

    call_command("demo", "--if-empty", stdout=io.StringIO())

    assert not demo.missing()
    template = ReportTemplate.objects.get(code=code)
    assert dict(ReportTemplate.objects.exclude(code=code).values_list("code", "pk")) == others
    spec = next(t for t in catalogue.TEMPLATES if t.code == code)
    assert list(template.columns.values_list("indicator__code", "heading")) == spec.columns
    assert template.owner.name == "区委组织部" and template.layout["header"]
    month = Period.containing(timezone.localdate().replace(day=1) - dt.timedelta(days=1), "month")
    wanted = Indicator.objects.filter(derivation__in=indicators.KEYS)
    grids = Grid.objects.valid_on(month.last_day).count()
    kept = DerivedSnapshot.objects.filter(
        indicator__in=wanted, period_type="month", period_start=month.start
    )
    assert kept.count() == len(indicators.KEYS) * grids

    # The community with the most needs last month: its ledger shows the form's figures.
    in_month = Q(raised_at__date__gte=month.start, raised_at__date__lte=month.last_day)
    community = Region.objects.get(
        pk=Need.objects.filter(in_month)
        .values("community")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("community", flat=True)[0]
    )
    shown = {i.code: value for i, value in sheet(community, month)["derived"]}
    raised = Need.objects.filter(in_month, community=community).exclude(status=NeedStatus.MERGED)
    assert shown["NEEDS_RAISED"] == raised.count() > 0
    dispatches = Dispatch.objects.filter(
        need__community=community,
        dispatched_at__date__gte=month.start,
        dispatched_at__date__lte=month.last_day,
    )
    assert shown["NEEDS_DISPATCHED"] == dispatches.count()
    assert set(spec_code for spec_code, _ in spec.columns) <= set(shown)

    before = (template.pk, kept.count())
    call_command("demo", "--if-empty", stdout=io.StringIO())
    assert (ReportTemplate.objects.get(code=code).pk, kept.count()) == before
