"""Needs and services figures as derived indicators (needs/indicators.py): each value equals a
hand count on a fixture whose every need, dispatch and provider is written out below, and
the organisation department's form (党员双报到与微心愿服务月报表) is computed from them, a
community's 平均办结天数 weighted by the needs fulfilled in each grid."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from needs import indicators
from needs.models import (
    Dispatch,
    DispatchStatus,
    Need,
    NeedSource,
    NeedStatus,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
)
from needs.services import figures
from reports import derived
from reports.models import Indicator, ReportTemplate
from reports.periods import Period
from reports.services.demo import install_catalogue
from reports.services.generate import generate
from tests.needs_fixtures import need_in, provider_in

KEYS = [
    "needs_raised",
    "needs_accepted",
    "needs_dispatched",
    "needs_fulfilled",
    "needs_overdue",
    "need_days",
    "party_registered",
    "party_services",
    "party_service_hours",
    "provider_units",
    "volunteer_services",
    "services_total",
]


def _month() -> Period:
    """Last month: a period that is over (its figures are kept as snapshots too)."""
    first = timezone.localdate().replace(day=1)
    return Period.containing(first - dt.timedelta(days=1), "month")


def _at(day: dt.date, plus_days: float = 0) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    return start + dt.timedelta(days=plus_days)


@pytest.fixture
def loop(tree, users):
    """Grids 111 and 112 (community 11) and 221 (community 22); the period is last month.

    g111: n1 done in 4 days (party member P1, 2.5 h), n2 done in 6 days (volunteer V1,
    1.5 h), n3 merged into n1, n4 declined, n5 accepted and overdue, n6 raised the month
    before and done in the period (5 days). g112: n8 done in 1 day (P1, 1 h). g221: n7 done
    in 2 days (unit U1, 3 h). P2 (g111) was confirmed after the period; P3 (g112) waits."""
    period = _month()
    d = period.start
    g111, g112, g221 = (tree.grids[k] for k in ((1, 1, 1), (1, 1, 2), (2, 2, 1)))
    kind = ServiceKind.objects.get(code="elderly")

    def provider(name, kind_, grid, status=ProviderStatus.CONFIRMED, confirmed=None):
        confirmed_at = confirmed if status == ProviderStatus.CONFIRMED else None
        return provider_in(grid, kind_, name, status=status, confirmed_at=confirmed_at)

    before = _at(d, -40)
    p1 = provider("党员甲", ProviderKind.PARTY_MEMBER, g111, confirmed=before)
    provider("党员乙", ProviderKind.PARTY_MEMBER, g111, confirmed=_at(period.end, 2))
    provider("党员丙", ProviderKind.PARTY_MEMBER, g112, status=ProviderStatus.PENDING)
    v1 = provider("志愿者甲", ProviderKind.VOLUNTEER, g112, confirmed=before)
    u1 = provider("某公司", ProviderKind.UNIT, g221, confirmed=before)
    provider("区税务局", ProviderKind.CO_BUILDING, g221, confirmed=before)

    def need(grid, status, raised, **fields):
        return need_in(
            grid,
            kind,
            title="助餐",
            source=NeedSource.STAFF,
            status=status,
            raised_at=raised,
            **fields,
        )

    def done(grid, raised, days, by, hours, *, dispatched=None):
        n = need(
            grid,
            NeedStatus.DONE,
            raised,
            reviewed_at=raised + dt.timedelta(hours=2),
            fulfilled_at=raised + dt.timedelta(days=days - 0.5),
            confirmed_at=raised + dt.timedelta(days=days),
            satisfaction=5,
        )
        Dispatch.objects.create(
            need=n,
            provider=by,
            status=DispatchStatus.CONFIRMED,
            dispatched_at=dispatched or raised + dt.timedelta(hours=3),
            accepted_at=raised + dt.timedelta(hours=4),
            reported_at=raised + dt.timedelta(days=days - 0.5),
            hours=Decimal(hours),
        )
        return n

    n1 = done(g111, _at(d, 1), 4, p1, "2.5")
    done(g111, _at(d, 2), 6, v1, "1.5")
    need(g111, NeedStatus.MERGED, _at(d, 3), reviewed_at=_at(d, 3.1), merged_into=n1)
    need(g111, NeedStatus.DECLINED, _at(d, 4), reviewed_at=_at(d, 4.1), decline_reason="重复")
    need(
        g111,
        NeedStatus.ACCEPTED,
        _at(d, 9),
        reviewed_at=_at(d, 9.1),
        due_at=_at(d, 11),
        overdue=True,
    )
    # Raised and dispatched the month before, confirmed on day 3 (served then).
    n6 = done(g111, _at(d, -2), 5, p1, "4", dispatched=_at(d, -1.9))
    Dispatch.objects.filter(need=n6).update(reported_at=_at(d, -1))
    Need.objects.filter(pk=n6.pk).update(reviewed_at=_at(d, -1.95))
    done(g112, _at(d, 0), 1, p1, "1")
    done(g221, _at(d, 5), 2, u1, "3")
    return SimpleNamespace(period=period, grids=(g111, g112, g221), tree=tree, users=users)


def _values(loop, key):
    grids = [g.pk for g in loop.tree.grids.values()]
    return derived.compute(key, derived.Context(loop.period, grids))


def test_every_figure_equals_the_hand_count(loop):
    g111, g112, g221 = (g.pk for g in loop.grids)
    expected = {
        "needs_raised": {g111: 4, g112: 1, g221: 1},
        "needs_accepted": {g111: 3, g112: 1, g221: 1},
        "needs_dispatched": {g111: 2, g112: 1, g221: 1},
        "needs_fulfilled": {g111: 3, g112: 1, g221: 1},
        "needs_overdue": {g111: 1},
        "party_registered": {g111: 1},
        "party_services": {g111: 2},  # on the party member's grid, n8 in g112 included
        "party_service_hours": {g111: Decimal("3.5")},
        "provider_units": {g221: 2},
        "volunteer_services": {g112: 1},
        "services_total": {g111: 2, g112: 1, g221: 1},
    }
    for key, counts in expected.items():
        values = _values(loop, key)
        nonzero = {pk: v for pk, v in values.items() if v}
        assert nonzero == {pk: Decimal(v) for pk, v in counts.items()}, key
        # Counts: every grid asked has a value (0 where nothing happened).
        assert len(values) == len(loop.tree.grids), key
    # A mean: no value where nothing was fulfilled; days from raised to confirmed.
    assert _values(loop, "need_days") == {
        g111: Decimal("5.0000"),
        g112: Decimal("1.0000"),
        g221: Decimal("2.0000"),
    }


def test_each_figure_is_one_query_for_all_grids(loop):
    for key in KEYS:
        with CaptureQueriesContext(connection) as queries:
            _values(loop, key)
        assert len(queries.captured_queries) == 1, key


def test_indicators_are_created_with_the_forms_words(db):
    rows = {i.derivation: i for i in Indicator.objects.filter(derivation__in=KEYS)}
    assert set(rows) == set(KEYS)
    assert rows["needs_fulfilled"].name == "完成微心愿数"
    assert rows["needs_raised"].name == "收集需求（微心愿）数"
    assert "双报到党员数" in rows["party_registered"].aliases
    # Named for what they count (review F7): units of both kinds; dispatches, not needs.
    assert rows["provider_units"].name == "驻区及共建单位数"
    assert "结对共建单位数" not in rows["provider_units"].aliases
    assert rows["needs_dispatched"].name == "派单次数"
    assert rows["party_registered"].time_aggregation == "latest"  # a stock
    assert rows["party_services"].time_aggregation == "sum"  # a flow
    days = rows["need_days"]
    assert days.value_type == "decimal"
    if indicators.WEIGHTED:
        assert days.aggregation == "weighted_mean"
        assert days.weight == rows["needs_fulfilled"]
    else:
        assert days.aggregation == "none"


def test_the_organisation_form_is_computed(loop):
    install_catalogue(loop.tree.district)
    template = ReportTemplate.objects.get(code="organisation-needs-monthly")
    assert template.title == "党员双报到与微心愿服务月报表"
    table, _ = generate(template, loop.period, loop.tree.streets[1])
    headings = [c.heading for c in table.columns]
    assert headings[:6] == [
        "收集群众微心愿数",
        "纳入需求清单数",
        "社区派单次数",
        "完成微心愿数",
        "超期未办结数",
        "平均办结天数",
    ]
    rows = {row.code: dict(zip(headings, row.values, strict=True)) for row in table.rows}
    c11 = rows[loop.tree.communities[(1, 1)].code]
    assert c11["收集群众微心愿数"] == 5
    assert c11["纳入需求清单数"] == 4
    assert c11["社区派单次数"] == 3
    assert c11["完成微心愿数"] == 4
    assert c11["超期未办结数"] == 1
    assert c11["到社区报到党员数"] == 1
    assert c11["报到党员服务次数"] == 2
    assert c11["党员服务时长（小时）"] == 3.5
    assert c11["志愿服务次数"] == 1
    assert c11["驻区及共建单位数"] == 0
    # Weighted by the needs fulfilled: (4 + 6 + 5 + 1) / 4, not the grids' (5 + 1) / 2.
    assert c11["平均办结天数"] == (4.0 if indicators.WEIGHTED else None)
    c12 = rows[loop.tree.communities[(1, 2)].code]
    assert c12["收集群众微心愿数"] == 0 and c12["平均办结天数"] is None


def test_the_figures_service_agrees_with_the_indicators(loop):
    community = loop.tree.communities[(1, 1)]
    period = loop.period
    with CaptureQueriesContext(connection) as queries:
        f = figures.for_region(community, period.start, period.end - dt.timedelta(days=1))
    assert len(queries.captured_queries) <= 10
    assert f["needs"]["raised"] == 5
    assert f["needs"]["accepted"] == 4
    assert f["needs"]["dispatched"] == 3
    assert f["needs"]["done"] == 4
    assert f["needs"]["merged"] == 1 and f["needs"]["declined"] == 1
    assert f["needs"]["overdue"] == 1
    assert f["days_to_fulfil"] == {"mean": 4.0, "median": 4.5}
    assert f["satisfaction"] == {"mean": 5.0, "rated": 4}
    by_grid = {a["code"]: a for a in f["by_area"]}
    assert by_grid[loop.grids[0].code]["done"] == 3
    party = {p["kind"]: p for p in f["providers"]}["party_member"]
    assert party == {
        "kind": "party_member",
        "label": str(ProviderKind.PARTY_MEMBER.label),
        "registered": 1,
        "active": 1,
        "services": 2,
        "hours": 3.5,
    }
    assert f["party_members"]["records"][0]["name"] == "党员甲"
    hidden = figures.for_region(
        community, period.start, period.end - dt.timedelta(days=1), people=False
    )
    assert hidden["party_members"]["records"][0]["name"] is None


def test_an_older_database_gets_the_new_words(tree):
    """needs 0006: sync_derived leaves existing rows alone, so the rows and the 组织部 form
    made with the old words are renamed; a name the district chose stays."""
    rename = importlib.import_module("needs.migrations.0006_figure_names").rename
    install_catalogue(tree.district)
    Indicator.objects.filter(derivation="provider_units").update(
        name="共建单位数", aliases=["驻区共建单位数", "结对共建单位数", "共驻共建单位数"]
    )
    Indicator.objects.filter(derivation="needs_dispatched").update(name="本月派单")
    template = ReportTemplate.objects.get(code="organisation-needs-monthly")
    template.columns.filter(heading="社区派单次数").update(heading="社区派单数")
    template.columns.filter(heading="驻区及共建单位数").update(heading="共建单位数")
    for cell in template.layout["header"]:
        cell["text"] = {
            "社区派单次数": "社区派单数（次）",
            "驻区及共建单位数（个）": "共建单位数（个）",
        }.get(cell["text"], cell["text"])
    template.save(update_fields=["layout"])

    rename(django_apps, None)

    units = Indicator.objects.get(derivation="provider_units")
    assert units.name == "驻区及共建单位数"
    assert units.aliases == ["驻区共建单位数", "共驻共建单位数", "驻区单位及共建单位数"]
    assert Indicator.objects.get(derivation="needs_dispatched").name == "本月派单"
    template.refresh_from_db()
    headings = list(template.columns.order_by("order").values_list("heading", flat=True))
    assert "社区派单次数" in headings and "驻区及共建单位数" in headings
    texts = {cell["text"] for cell in template.layout["header"]}
    assert {"社区派单次数", "驻区及共建单位数（个）"} <= texts
    assert not {"社区派单数（次）", "共建单位数（个）"} & texts


def test_the_figures_see_an_edited_kind_at_once(loop):
    """The kinds list is cached between figures requests; saving a kind drops it."""
    community = loop.tree.communities[(1, 1)]
    period = loop.period
    end = period.end - dt.timedelta(days=1)

    def name_of(code):
        by_kind = figures.for_region(community, period.start, end)["by_kind"]
        return next(k["name"] for k in by_kind if k["code"] == code)

    assert name_of("elderly") == ServiceKind.objects.get(code="elderly").name
    kind = ServiceKind.objects.get(code="elderly")
    kind.name = "助老助餐服务"
    kind.save()
    assert name_of("elderly") == "助老助餐服务"
    with CaptureQueriesContext(connection) as queries:
        figures.for_region(community, period.start, end)
    assert not any("needs_servicekind" in q["sql"] for q in queries.captured_queries)
