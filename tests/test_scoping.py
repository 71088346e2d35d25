"""One scoping rule for every role: what each user can list, fetch, export and read unmasked.

Objects outside a jurisdiction are absent (404, never 403); personal data is masked for roles
that do not need it, and every unmasked read leaves an audit row.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import Point

from grids.models import AuditLog, Grid, Household, Region, Resident
from grids.services import households as household_service

ROLES = ["admin", "district", "street", "community", "worker", "other_worker", "department"]
ALL_GRIDS = [(s, c, g) for s in (1, 2) for c in (1, 2) for g in (1, 2)]
ALL_REGIONS = ["D", "S1", "S2", "C11", "C12", "C21", "C22"]
ORPHAN = "orphan"  # a household in no grid

# What each role may see; keys are (s, c, g) for grids and households, names for regions.
GRIDS = {
    "admin": ALL_GRIDS,
    "district": ALL_GRIDS,
    "department": ALL_GRIDS,
    "street": [k for k in ALL_GRIDS if k[0] == 1],
    "community": [k for k in ALL_GRIDS if k[:2] == (1, 1)],
    "worker": [(1, 1, 1)],
    "other_worker": [(2, 2, 2)],
}
REGIONS = {
    "admin": ALL_REGIONS,
    "district": ALL_REGIONS,
    "department": ALL_REGIONS,
    "street": ["S1", "C11", "C12"],
    "community": ["C11"],
    "worker": [],
    "other_worker": [],
}
HOUSEHOLDS = {
    "admin": [*ALL_GRIDS, ORPHAN],
    "district": [*ALL_GRIDS, ORPHAN],
    "department": [],
    "street": GRIDS["street"],
    "community": GRIDS["community"],
    "worker": GRIDS["worker"],
    "other_worker": GRIDS["other_worker"],
}
UNMASKED_ROLES = ["admin", "street", "community", "worker"]
MASKED_ROLES = ["district"]

NAME = "张三丰"
ID_NUMBER = "500118199001011234"
PHONE = "13812345678"
MASKED_NAME = "张**"
MASKED_ID = "5001**********1234"
MASKED_PHONE = "138****5678"


@pytest.fixture(autouse=True)
def fast_setup(settings, tmp_path):
    """Users are made per test, and every API client starts WhiteNoise, which walks
    STATIC_ROOT: a fast hasher and an empty static root keep the run short (and safe from a
    `collectstatic` running at the same time)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATIC_ROOT = tmp_path / "static"


def person(**overrides) -> dict:
    return {
        "name": NAME,
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "birth_date": dt.date(1990, 1, 1),
        "sex": "M",
        **overrides,
    }


@pytest.fixture
def world(tree, users, homes, add_household):
    """Every household (one per grid and one in no grid) with one resident."""
    orphan = add_household(Point(106.05, 29.35, srid=4326), address="界外1号")
    assert orphan.grid_id is None
    households = {**homes, ORPHAN: orphan}
    residents = {
        key: household_service.add_residents(household, [person()])[0]
        for key, household in households.items()
    }
    regions = {"D": tree.district}
    regions.update({f"S{s}": street for s, street in tree.streets.items()})
    regions.update({f"C{s}{c}": community for (s, c), community in tree.communities.items()})
    return SimpleNamespace(
        tree=tree,
        users=users,
        households=households,
        residents=residents,
        regions=regions,
    )


def ids(objects: dict, keys) -> set[int]:
    return {objects[key].pk for key in keys}


def grid_ids(world, keys) -> set[int]:
    return {world.tree.grids[key].pk for key in keys}


def feature_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == len(body["features"])
    return {feature["id"] for feature in body["features"]}


# ---------------------------------------------------------------- listing through the API


@pytest.mark.parametrize("role", ROLES)
def test_list_through_api(world, api, role):
    client = api(getattr(world.users, role))
    assert feature_ids(client.get("/api/regions/")) == ids(world.regions, REGIONS[role])
    assert feature_ids(client.get("/api/grids/")) == grid_ids(world, GRIDS[role])
    assert feature_ids(client.get("/api/households/")) == ids(world.households, HOUSEHOLDS[role])
    response = client.get("/api/residents/")
    assert response.status_code == 200
    assert {r["id"] for r in response.json()} == ids(world.residents, HOUSEHOLDS[role])


def test_district_centre_sees_households_in_no_grid(world, api):
    response = api(world.users.district).get("/api/households/", {"flagged": "true"})
    assert feature_ids(response) == {world.households[ORPHAN].pk}
    for role in ("street", "community", "worker", "department"):
        response = api(getattr(world.users, role)).get("/api/households/", {"flagged": "true"})
        assert feature_ids(response) == set()


# ---------------------------------------------------------------- fetching by id


@pytest.mark.parametrize("role", ROLES)
def test_fetch_by_id(world, api, role):
    client = api(getattr(world.users, role))
    checks = [
        ("regions", world.regions, REGIONS[role], ALL_REGIONS),
        ("grids", world.tree.grids, GRIDS[role], ALL_GRIDS),
        ("households", world.households, HOUSEHOLDS[role], world.households),
        ("residents", world.residents, HOUSEHOLDS[role], world.residents),
    ]
    for endpoint, objects, visible, every in checks:
        for key in every:
            response = client.get(f"/api/{endpoint}/{objects[key].pk}/")
            expected = 200 if key in visible else 404
            assert response.status_code == expected, (endpoint, key, response.content)
            if expected == 200:
                assert response.json()["id"] == objects[key].pk
            else:
                assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_household_residents_action_is_scoped(world, api, role):
    client = api(getattr(world.users, role))
    for key, household in world.households.items():
        response = client.get(f"/api/households/{household.pk}/residents/")
        if key in HOUSEHOLDS[role]:
            assert response.status_code == 200
            assert [r["id"] for r in response.json()] == [world.residents[key].pk]
        else:
            assert response.status_code == 404, (key, response.content)


# ---------------------------------------------------------------- exports


def export(client, layer: str):
    response = client.get(f"/api/export/{layer}.geojson")
    assert response.status_code == 200, response.content
    return json.loads(b"".join(response) if response.streaming else response.content)


@pytest.mark.parametrize("role", ROLES)
def test_exports_are_scoped_and_audited(world, api, role):
    user = getattr(world.users, role)
    client = api(user)

    collection = export(client, "households")
    exported = {feature["properties"]["id"] for feature in collection["features"]}
    assert exported == ids(world.households, HOUSEHOLDS[role])
    entry = AuditLog.objects.get(action=AuditLog.Action.EXPORT, user=user)
    assert entry.model == "households"

    collection = export(client, "grids")
    exported = {feature["properties"]["code"] for feature in collection["features"]}
    assert exported == {world.tree.grids[key].code for key in GRIDS[role]}
    for feature in collection["features"]:
        assert feature["properties"]["households"] == 1
        assert feature["properties"]["residents"] == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, user=user).count() == 2
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, model="grids").count() == 1

    collection = export(client, "streets")
    exported = {feature["properties"]["code"] for feature in collection["features"]}
    streets = [name for name in REGIONS[role] if name.startswith("S")]
    assert exported == {world.regions[name].code for name in streets}
    # an export is not a read of personal data
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_PERSONAL).exists()


# ---------------------------------------------------------------- grid A cannot reach grid B


def test_worker_of_grid_a_cannot_reach_grid_b(world, api):
    client = api(world.users.worker)
    own = world.households[(1, 1, 1)]
    others = {key: h for key, h in world.households.items() if key != (1, 1, 1)}

    assert feature_ids(client.get("/api/households/")) == {own.pk}
    grid_b = world.tree.grids[(2, 2, 2)]
    assert feature_ids(client.get("/api/households/", {"grid": grid_b.code})) == set()
    assert client.get("/api/residents/", {"grid": grid_b.code}).json() == []

    for key, household in others.items():
        url = f"/api/households/{household.pk}/"
        assert client.get(url).status_code == 404
        assert client.get(url + "residents/").status_code == 404
        assert client.patch(url, {"address": "hijacked"}, format="json").status_code == 404
        response = client.post(
            url + "residents/", {**person(), "birth_date": "1990-01-01"}, format="json"
        )
        assert response.status_code == 404
        assert client.get(f"/api/residents/{world.residents[key].pk}/").status_code == 404
    # untouched
    assert Household.objects.exclude(address="hijacked").count() == len(world.households)
    assert Resident.objects.count() == len(world.residents)

    collection = export(client, "households")
    assert [f["properties"]["id"] for f in collection["features"]] == [own.pk]


def test_worker_guessing_ids_gets_only_404(world, api):
    """Walking the id space answers 404 for both hidden and missing households: nothing tells
    the two apart."""
    client = api(world.users.worker)
    own = world.households[(1, 1, 1)].pk
    pks = [h.pk for h in world.households.values()]
    bodies = set()
    for pk in range(min(pks) - 3, max(pks) + 10):
        if pk == own:
            continue
        response = client.get(f"/api/households/{pk}/")
        assert response.status_code == 404, pk
        bodies.add(response.content)
    assert len(bodies) == 1


def test_other_worker_sees_only_grid_b(world, api):
    client = api(world.users.other_worker)
    own = world.households[(2, 2, 2)]
    assert client.get(f"/api/households/{own.pk}/").status_code == 200
    assert client.get(f"/api/households/{world.households[(1, 1, 1)].pk}/").status_code == 404


# ---------------------------------------------------------------- anonymous


ANONYMOUS_URLS = [
    "/api/regions/",
    "/api/grids/",
    "/api/households/",
    "/api/residents/",
    "/api/stats/rollup/",
    "/api/export/households.geojson",
    "/api/export/grids.geojson",
    "/api/me/",
]


def test_anonymous_is_refused_with_json(world, api):
    client = api()
    for url in ANONYMOUS_URLS:
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert response["Content-Type"].startswith("application/json"), url
        body = response.json()
        assert body["status"] == response.status_code
        assert body["errors"][0]["code"] in ("not_authenticated", "permission_denied")
        assert body["errors"][0]["message"]
    assert not AuditLog.objects.exists()


def test_anonymous_cannot_fetch_by_id(world, api):
    household = world.households[(1, 1, 1)]
    response = api().get(f"/api/households/{household.pk}/")
    assert response.status_code in (401, 403)
    assert "errors" in response.json()


# ---------------------------------------------------------------- the QuerySets themselves


@pytest.mark.parametrize("role", ROLES)
def test_queryset_visible_to(world, role):
    user = getattr(world.users, role)
    assert set(Region.objects.visible_to(user).values_list("pk", flat=True)) == ids(
        world.regions, REGIONS[role]
    )
    assert set(Grid.objects.visible_to(user).values_list("pk", flat=True)) == grid_ids(
        world, GRIDS[role]
    )
    assert set(Household.objects.visible_to(user).values_list("pk", flat=True)) == ids(
        world.households, HOUSEHOLDS[role]
    )
    assert set(Resident.objects.visible_to(user).values_list("pk", flat=True)) == ids(
        world.residents, HOUSEHOLDS[role]
    )


def test_queryset_visible_to_anonymous_and_inactive(world):
    inactive = world.users.admin
    inactive.is_active = False
    inactive.save()
    for user in (AnonymousUser(), inactive):
        assert not Region.objects.visible_to(user).exists()
        assert not Grid.objects.visible_to(user).exists()
        assert not Household.objects.visible_to(user).exists()
        assert not Resident.objects.visible_to(user).exists()


def test_superuser_without_role_sees_everything(world, make_user):
    root = make_user("root", "", is_superuser=True, is_staff=True)
    assert Household.objects.visible_to(root).count() == len(world.households)
    assert Resident.objects.visible_to(root).count() == len(world.residents)


def test_visible_to_composes_with_other_filters(world):
    worker = world.users.worker
    grid_b = world.tree.grids[(2, 2, 2)]
    assert not Household.objects.filter(grid=grid_b).visible_to(worker).exists()
    assert not Household.objects.visible_to(worker).filter(grid=grid_b).exists()


# ---------------------------------------------------------------- masking and audit


def assert_unmasked(resident: dict):
    assert resident["masked"] is False
    assert resident["name"] == NAME
    assert resident["id_number"] == ID_NUMBER
    assert resident["phone"] == PHONE


def assert_masked(resident: dict):
    assert resident["masked"] is True
    assert resident["name"] == MASKED_NAME
    assert resident["id_number"] == MASKED_ID
    assert resident["phone"] == MASKED_PHONE


def reads(user):
    return AuditLog.objects.filter(action=AuditLog.Action.READ_PERSONAL, user=user)


VISIBLE_HOUSEHOLD = {
    "admin": (2, 2, 2),
    "street": (1, 2, 1),
    "community": (1, 1, 2),
    "worker": (1, 1, 1),
    "district": (2, 1, 1),
}


@pytest.mark.parametrize("role", UNMASKED_ROLES)
def test_unmasked_household_residents_read_is_audited(world, api, role):
    user = getattr(world.users, role)
    key = VISIBLE_HOUSEHOLD[role]
    household, resident = world.households[key], world.residents[key]
    response = api(user).get(f"/api/households/{household.pk}/residents/")
    assert response.status_code == 200
    [data] = response.json()
    assert_unmasked(data)
    entry = reads(user).get()
    assert entry.model == "resident"
    assert entry.object_ids == [resident.pk]
    assert entry.channel == "api"
    assert str(household.pk) in entry.path


@pytest.mark.parametrize("role", UNMASKED_ROLES)
def test_unmasked_resident_list_and_detail_are_audited(world, api, role):
    user = getattr(world.users, role)
    client = api(user)
    response = client.get("/api/residents/")
    assert response.status_code == 200
    for data in response.json():
        assert_unmasked(data)
    expected = ids(world.residents, HOUSEHOLDS[role])
    entry = reads(user).get()
    assert set(entry.object_ids) == expected

    resident = world.residents[VISIBLE_HOUSEHOLD[role]]
    response = client.get(f"/api/residents/{resident.pk}/")
    assert response.status_code == 200
    assert_unmasked(response.json())
    assert reads(user).count() == 2
    assert reads(user).filter(object_ids=[resident.pk]).exists()


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_masked_reads_are_not_audited(world, api, role):
    user = getattr(world.users, role)
    client = api(user)
    key = VISIBLE_HOUSEHOLD[role]
    household, resident = world.households[key], world.residents[key]

    [data] = client.get(f"/api/households/{household.pk}/residents/").json()
    assert_masked(data)
    listed = client.get("/api/residents/").json()
    assert {r["id"] for r in listed} == ids(world.residents, HOUSEHOLDS[role])
    for data in listed:
        assert_masked(data)
    detail = client.get(f"/api/residents/{resident.pk}/")
    assert detail.status_code == 200
    assert_masked(detail.json())
    # the full values appear nowhere in what was sent
    for response in (client.get("/api/residents/"), detail):
        assert ID_NUMBER.encode() not in response.content
        assert PHONE.encode() not in response.content
        assert NAME not in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_PERSONAL).exists()


def test_department_sees_no_residents_at_all(world, api):
    client = api(world.users.department)
    assert client.get("/api/residents/").json() == []
    for resident in world.residents.values():
        assert client.get(f"/api/residents/{resident.pk}/").status_code == 404
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_PERSONAL).exists()


def test_add_resident_through_api_is_stored_and_audited(world, api):
    worker = world.users.worker
    household = world.households[(1, 1, 1)]
    response = api(worker).post(
        f"/api/households/{household.pk}/residents/",
        {
            "name": "李四",
            "id_number": "500118198505052345",
            "phone": "13987654321",
            "birth_date": "1985-05-05",
            "sex": "F",
            "tags": ["elderly"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    added = [r for r in response.json() if r["name"] == "李四"]
    assert len(added) == 1
    assert added[0]["id_number"] == "500118198505052345"
    assert added[0]["phone"] == "13987654321"
    assert added[0]["masked"] is False
    new = Resident.objects.get(pk=added[0]["id"])
    assert new.household == household
    household.refresh_from_db()
    assert household.member_count == 2
    entry = reads(worker).get()
    assert set(entry.object_ids) == {world.residents[(1, 1, 1)].pk, new.pk}

    # the district centre reads the same household masked
    district = api(world.users.district).get(f"/api/households/{household.pk}/residents/")
    masked = next(r for r in district.json() if r["id"] == new.pk)
    assert masked["name"] == "李*"
    assert masked["id_number"] == "5001**********2345"
    assert masked["phone"] == "139****4321"
    assert reads(world.users.district).count() == 0


def test_district_centre_and_department_cannot_add_residents(world, api):
    household = world.households[(1, 1, 1)]
    payload = {**person(), "birth_date": "1990-01-01"}
    url = f"/api/households/{household.pk}/residents/"
    assert api(world.users.district).post(url, payload, format="json").status_code == 403
    assert api(world.users.department).post(url, payload, format="json").status_code in (403, 404)
    assert Resident.objects.filter(household=household).count() == 1


def test_households_in_no_grid_are_counted_only_for_who_may_see_them(users, homes, api):
    from django.contrib.gis.geos import Point

    from grids.services.households import create_household

    create_household(address="界外户", location=Point(106.05, 29.35, srid=4326))
    street = api(users.street).get("/api/stats/rollup/", {"level": "street"}).json()
    district = api(users.district).get("/api/stats/rollup/", {"level": "street"}).json()
    assert street["unassigned"]["households"] == 0
    assert district["unassigned"]["households"] == 1


def test_home_page_shows_households_in_no_grid_only_to_the_district(users, homes, client):
    from django.contrib.gis.geos import Point

    from grids.services.households import create_household

    create_household(address="界外户", location=Point(106.05, 29.35, srid=4326))
    client.force_login(users.street)
    page = client.get("/overview/").content.decode()
    assert "未落入网格的住户" not in page
    assert "街道1" in page
    client.force_login(users.district)
    page = client.get("/overview/").content.decode()
    assert "未落入网格的住户" in page
