"""Decision 4 through OGC API – Features (issue #19): each collection's rows per role follow
the one scoping rule, whatever `datetime` asks for.

The tree of tests/conftest.py: street 1 (west) and street 2 (east), two communities each, two
grids per community. The worker works in grid 1-1-1, the other worker in 2-2-2, the street
centre in street 1, the community staff in community 1-1; street 2's centre is made here.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from grids.models import Role
from incidents.models import Incident
from ogc import registry
from ogc.registry import Interval
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of

CORE = {"districts", "streets", "communities", "grids", "grid-versions", "households", "incidents"}
OUTSIDE = Point(106.05, 29.35, srid=4326)  # east of the district: in no grid


def on(day: dt.date) -> Interval:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    return Interval(moment, moment)


def ids(collection_id: str, user, interval: Interval | None = None) -> set:
    collection = registry.get(collection_id, user)
    if collection is None:
        return set()
    return set(collection.rows(user, interval).values_list(collection.id_field, flat=True))


def codes(keys, objects) -> set:
    return {objects[key].code for key in keys}


@pytest.fixture
def world(tree, users, homes, incident, add_household, make_user, catalogue):
    """A household, a camera and an incident in every grid (the incident fixture's is in
    1-1-1), a household in no grid, and street 2's centre."""
    cameras = {
        key: create_sensor(
            SensorSpec(
                code=f"CAM-{''.join(map(str, key))}",
                type="camera",
                location=centre_of(grid),
                properties={"bearing": 0, "fov": 90, "range": 100},
            )
        )
        for key, grid in tree.grids.items()
    }
    g222 = tree.grids[(2, 2, 2)]
    far = Incident.objects.create(
        title="东街积水",
        category=catalogue["category"],
        source="patrol",
        location=centre_of(g222),
        grid=g222,
        community=tree.communities[(2, 2)],
        street=tree.streets[2],
        district=tree.district,
        level="grid",
    )
    return {
        "cameras": cameras,
        "incidents": {(1, 1, 1): incident.pk, (2, 2, 2): far.pk},
        "stray": add_household(OUTSIDE, address="区外户"),
        "street2": make_user("street2", Role.STREET_CENTRE, region=tree.streets[2]),
    }


def test_the_collections_each_role_is_offered(world, users):
    for role in ("admin", "district", "street", "community", "worker", "other_worker"):
        user = getattr(users, role)
        assert {c.id for c in registry.collections_for(user)} >= CORE, role
    # A department sees the tree and the places (buildings, units) but no households: for it
    # that collection does not exist, answered like an unknown collection.
    offered = {c.id for c in registry.collections_for(users.department)}
    assert offered == (CORE - {"households"}) | {"buildings", "units"} | {
        c.id for c in registry.collections_for(users.department) if c.id.startswith("sensors-")
    }
    assert "households" not in offered and "sensors-camera" in offered
    assert registry.get("households", users.department) is None
    assert registry.get("no-such-collection", users.department) is None


def test_a_grid_worker_sees_their_grid_only(tree, world, users, homes):
    worker, key = users.worker, (1, 1, 1)
    grid = tree.grids[key]
    assert ids("grids", worker) == {grid.code}
    assert {v.grid.code for v in registry.get("grid-versions", worker).rows(worker)} == {grid.code}
    assert ids("households", worker) == {homes[key].pk}
    assert ids("incidents", worker) == {world["incidents"][key]}
    assert ids("sensors-camera", worker) == {world["cameras"][key].code}
    # A grid worker's jurisdiction is a grid, not a region of the tree.
    assert ids("districts", worker) == ids("streets", worker) == ids("communities", worker) == set()


def test_another_grid_worker_sees_nothing_of_that_grid(tree, world, users, homes):
    other, key = users.other_worker, (2, 2, 2)
    assert ids("grids", other) == {tree.grids[key].code}
    assert ids("households", other) == {homes[key].pk}
    assert ids("incidents", other) == {world["incidents"][key]}
    assert ids("sensors-camera", other) == {world["cameras"][key].code}


def test_community_and_street_see_their_part_of_the_tree(tree, world, users, homes):
    mine = [(1, 1, 1), (1, 1, 2)]
    assert ids("communities", users.community) == {tree.communities[(1, 1)].code}
    assert ids("grids", users.community) == codes(mine, tree.grids)
    assert ids("households", users.community) == {homes[k].pk for k in mine}
    street1 = [k for k in tree.grids if k[0] == 1]
    assert ids("streets", users.street) == {tree.streets[1].code}
    assert ids("communities", users.street) == codes([(1, 1), (1, 2)], tree.communities)
    assert ids("grids", users.street) == codes(street1, tree.grids)
    assert ids("households", users.street) == {homes[k].pk for k in street1}
    assert ids("sensors-camera", users.street) == {world["cameras"][k].code for k in street1}
    assert ids("districts", users.street) == set()


def test_another_streets_staff_sees_nothing_of_this_street(tree, world, users, homes):
    street2 = world["street2"]
    foreign = {
        *(tree.grids[k].code for k in tree.grids if k[0] == 1),
        *(c.code for k, c in tree.communities.items() if k[0] == 1),
        tree.streets[1].code,
        *(homes[k].pk for k in homes if k[0] == 1),
        *(world["cameras"][k].code for k in world["cameras"] if k[0] == 1),
        world["incidents"][(1, 1, 1)],
        world["stray"].pk,
    }
    seen = set()
    for collection in registry.collections_for(street2):
        for interval in (None, on(dt.date(2024, 6, 1))):
            seen |= ids(collection.id, street2, interval)
    assert not seen & foreign
    assert ids("grids", street2) == codes([k for k in tree.grids if k[0] == 2], tree.grids)


def test_the_district_centre_sees_everything_and_the_households_in_no_grid(
    tree, world, users, homes
):
    stray = world["stray"]
    assert stray.grid_id is None
    assert ids("households", users.district) == {h.pk for h in homes.values()} | {stray.pk}
    assert ids("districts", users.district) == {tree.district.code}
    assert stray.pk not in ids("households", users.street)
    assert stray.pk in ids("households", users.admin)


def test_a_department_sees_the_tree_and_its_own_incidents(tree, world, users):
    department = users.department
    assert ids("grids", department) == {g.code for g in tree.grids.values()}
    assert ids("communities", department) == {c.code for c in tree.communities.values()}
    assert ids("households", department) == set()
    # Neither incident is held by, whistled to or reported by civil affairs.
    assert ids("incidents", department) == set()
    Incident.objects.filter(pk=world["incidents"][(2, 2, 2)]).update(
        department=department.department, level="department"
    )
    assert ids("incidents", department) == {world["incidents"][(2, 2, 2)]}


def test_a_past_date_does_not_widen_the_scope(tree, world, users, homes):
    """Scope is today's jurisdiction over today's keys (decision 4), for every date: the
    grid a household was in then is a property, not a way in."""
    for user in (users.worker, users.other_worker, users.street, users.department):
        for collection in registry.collections_for(user):
            if collection.temporal is None:
                continue
            for day in (dt.date(2024, 6, 1), dt.date(2025, 1, 1)):
                assert ids(collection.id, user, on(day)) <= ids(
                    collection.id, user, Interval(None, None)
                ) | ids(collection.id, user), (user.username, collection.id)
    assert ids("households", users.worker, on(dt.date(2030, 1, 1))) == {homes[(1, 1, 1)].pk}


# --- through the HTTP API ----------------------------------------------------------------------


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(user, url: str, **params):
    return client_of(user).get(url, {"f": "json", **params}, HTTP_ACCEPT="application/json")


def text(response) -> str:
    """The body as a person would read it (JSON unescaped)."""
    return json.dumps(response.json(), ensure_ascii=False)


def test_the_collections_page_lists_what_the_role_may_see(world, users):
    def listed(user):
        response = get(user, "/ogc/collections")
        assert response.status_code == 200
        return {c["id"] for c in response.json()["collections"]}

    assert CORE | {"sensors-camera", "sensors-voice_pole"} <= listed(users.worker)
    department = listed(users.department)
    assert "households" not in department
    assert (CORE - {"households"}) | {"sensors-camera"} <= department
    # Absent, not forbidden: the same answer as a collection that does not exist.
    hidden = get(users.department, "/ogc/collections/households")
    unknown = get(users.department, "/ogc/collections/no-such-collection")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()
    assert get(users.department, "/ogc/collections/households/items").status_code == 404


def test_a_feature_of_another_jurisdiction_is_not_found(tree, world, users, homes):
    mine, theirs = (1, 1, 1), (2, 2, 2)
    cases = {
        "households": (homes[mine].pk, homes[theirs].pk),
        "grids": (tree.grids[mine].code, tree.grids[theirs].code),
        "sensors-camera": (world["cameras"][mine].code, world["cameras"][theirs].code),
        "incidents": (world["incidents"][mine], world["incidents"][theirs]),
    }
    for collection_id, (own, foreign) in cases.items():
        url = f"/ogc/collections/{collection_id}/items/"
        assert get(users.worker, f"{url}{own}").status_code == 200, collection_id
        refused = get(users.worker, f"{url}{foreign}")
        assert refused.status_code == 404, collection_id
        missing = get(users.worker, f"{url}999999999")
        assert refused.json() == missing.json(), collection_id
    # Another street's centre: nothing of street 1, by id or in a listing, on any date.
    street2 = world["street2"]
    for collection_id, (own, _foreign) in cases.items():
        url = f"/ogc/collections/{collection_id}/items"
        assert get(street2, f"{url}/{own}").status_code == 404, collection_id
        for params in ({}, {"datetime": "2024-06-01"}, {"datetime": "2024-01-01/.."}):
            listing = get(street2, url, **params)
            assert listing.status_code == 200, (collection_id, params)
            assert own not in {f["id"] for f in listing.json()["features"]}
            # No code of street 1 (500118001...) anywhere in the answer.
            assert "500118001" not in text(listing), (collection_id, params)


def test_a_department_reads_no_household_through_any_collection(tree, world, users, homes):
    response = get(users.department, "/ogc/collections/grids/items", limit=100)
    assert response.status_code == 200
    assert len(response.json()["features"]) == len(tree.grids)
    for home in homes.values():
        assert home.address not in text(response)
        assert (
            get(users.department, f"/ogc/collections/households/items/{home.pk}").status_code == 404
        )
