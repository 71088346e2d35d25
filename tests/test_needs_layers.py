"""The needs and providers layers of the command-centre map (needs/layers.py): tiles scoped
by the one rule (a grid worker its grid's needs, a department and a provider nothing), points
at street zoom and counts per grid below, a step shown at once, persons unnamed, and the
number of queries a tile costs pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.models import Role
from maps import tiles
from needs.models import (
    NeedSource,
    NeedStatus,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
)
from tests.needs_fixtures import need_in, provider_in
from tests.test_tiles import features, get, tile_of

DISTRICT_TILE = tile_of(105.95, 29.35, 10)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def needs(tree, users):
    kind = ServiceKind.objects.get(code="plumbing")

    def need(grid, status=NeedStatus.SUBMITTED, **fields):
        return need_in(
            grid, kind, title="水管漏水", source=NeedSource.GRID_WORKER, status=status, **fields
        )

    mine_grid, other_grid = tree.grids[(1, 1, 1)], tree.grids[(2, 2, 2)]
    return {
        "mine": need(mine_grid),
        "overdue": need(mine_grid, NeedStatus.TAKEN, overdue=True),
        "done": need(mine_grid, NeedStatus.DONE, confirmed_at=timezone.now()),
        "old": need(
            mine_grid, NeedStatus.DONE, confirmed_at=timezone.now() - dt.timedelta(days=40)
        ),
        "declined": need(mine_grid, NeedStatus.DECLINED),
        "theirs": need(other_grid, NeedStatus.ACCEPTED),
    }


@pytest.fixture
def providers(tree):
    def provider(name, kind, grid, status=ProviderStatus.CONFIRMED):
        confirmed_at = timezone.now() if status == ProviderStatus.CONFIRMED else None
        return provider_in(grid, kind, name, status=status, confirmed_at=confirmed_at)

    grid = tree.grids[(1, 1, 2)]
    return {
        "unit": provider("某物业公司", ProviderKind.UNIT, grid),
        "member": provider("张伟", ProviderKind.PARTY_MEMBER, grid),
        "pending": provider("李娜", ProviderKind.VOLUNTEER, grid, ProviderStatus.PENDING),
        "far": provider("区税务局", ProviderKind.CO_BUILDING, tree.grids[(2, 2, 2)]),
    }


def _points(user, layer, point, z=16):
    tile = tile_of(point.x, point.y, z)
    return {f["id"]: f["properties"] for f in features(get(client_for(user), layer, *tile), layer)}


def test_need_tiles_are_scoped_and_follow_a_step(users, needs, tree):
    mine = needs["mine"]
    points = _points(users.worker, "needs", mine.location)
    # Open and recently done needs; not declined, not done long ago.
    assert set(points) == {mine.pk, needs["overdue"].pk, needs["done"].pk}
    assert points[mine.pk]["status"] == "submitted"
    assert points[mine.pk]["number"] == mine.number
    assert points[needs["overdue"].pk]["overdue"] is True
    assert _points(users.other_worker, "needs", mine.location) == {}
    # A step shows at once: the layer's tiles are invalidated by the need's save.
    mine.status = NeedStatus.ACCEPTED
    mine.save()
    assert _points(users.worker, "needs", mine.location)[mine.pk]["status"] == "accepted"
    # Below zoom 13: one point per grid with its number of open needs, scoped.
    counts = features(get(client_for(users.district), "needs", *DISTRICT_TILE), "needs")
    per_grid = {f["properties"]["code"]: f["properties"]["n"] for f in counts}
    assert per_grid == {tree.grids[(1, 1, 1)].code: 2, tree.grids[(2, 2, 2)].code: 1}
    assert {f["geometry"]["type"] for f in counts} == {"Point"}
    mine_only = features(get(client_for(users.worker), "needs", *DISTRICT_TILE), "needs")
    assert [(f["properties"]["code"], f["properties"]["n"]) for f in mine_only] == [
        (tree.grids[(1, 1, 1)].code, 2)
    ]


def test_a_provider_and_a_department_get_no_tile(users, needs, providers, make_user):
    # The layers are not offered to them at all: as an unknown layer, 404.
    provider = make_user("helper", Role.PROVIDER)
    point = needs["mine"].location
    for user in (provider, users.department):
        for layer in ("needs", "providers"):
            for z in (10, 16):
                response = get(client_for(user), layer, *tile_of(point.x, point.y, z))
                assert response.status_code == 404, (user.username, layer, z)


def test_provider_tiles_show_kinds_and_name_units_only(users, providers, tree):
    unit, member = providers["unit"], providers["member"]
    points = _points(users.community, "providers", unit.location)
    assert set(points) == {unit.pk, member.pk}  # the pending registration is not on the map
    assert points[unit.pk]["kind"] == "unit" and points[unit.pk]["label"] == "某物业公司"
    assert points[member.pk]["kind"] == "party_member" and points[member.pk]["label"] == ""
    # A grid worker sees its community's confirmed providers; another community's nothing.
    assert set(_points(users.worker, "providers", unit.location)) == {unit.pk, member.pk}
    assert _points(users.other_worker, "providers", unit.location) == {}
    counts = features(get(client_for(users.district), "providers", *DISTRICT_TILE), "providers")
    per_grid = {f["properties"]["code"]: f["properties"]["n"] for f in counts}
    assert per_grid == {tree.grids[(1, 1, 2)].code: 2, tree.grids[(2, 2, 2)].code: 1}


def test_a_tile_costs_a_fixed_number_of_queries(users, needs, providers, tree):
    client = client_for(users.street)
    centre = needs["mine"].location
    counted = {}
    for layer, z in (("needs", 16), ("needs", 10), ("providers", 16), ("providers", 10)):
        tile = tile_of(centre.x, centre.y, z)
        get(client, layer, *tile)  # the session and the layer's version, warmed
        cache.clear()
        tiles.forget_process_caches()
        with CaptureQueriesContext(connection) as queries:
            response = get(client, layer, *tile)
        assert response.status_code == 200
        counted[(layer, z)] = len(queries.captured_queries)
    # Pinned like the incidents layer's: the session and user, the layer's version, one
    # statement for the tile (cached afterwards).
    assert counted == {k: counted[("needs", 16)] for k in counted}, counted
    assert counted[("needs", 16)] <= 6, counted


def test_the_map_lists_both_layers_with_a_chinese_legend(users):
    response = client_for(users.street).get("/")
    meta = response.context["style"]["metadata"]["gridline"]
    layers = {lay["name"]: lay for lay in meta["layers"]}
    assert layers["needs"]["aggregatedBelow"] == 13
    assert set(layers["needs"]["style"]["statuses"]) >= {"submitted", "taken", "done"}
    assert set(layers["providers"]["style"]["statuses"]) == {
        "unit",
        "co_building",
        "volunteer",
        "party_member",
    }
    department = client_for(users.department).get("/")
    names = {lay["name"] for lay in department.context["style"]["metadata"]["gridline"]["layers"]}
    assert not names & {"needs", "providers"}
