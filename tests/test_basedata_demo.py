"""The demo district's 一标三实 (issue #17): buildings, standard addresses and units where
the households are, residents with registration, relation and tags in a real district's
proportions, the same whether built with the demo or added to one built before, and the
buildings and units map layers scoped per role with no personal field in a tile."""

from __future__ import annotations

import importlib
import io
import math

import mapbox_vector_tile
import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test import Client

from grids.models import (
    Address,
    Building,
    Household,
    Resident,
    ResidentTagKind,
    Unit,
    UnitType,
    User,
)
from grids.services import demo, demo_basedata
from grids.services.demo_units import CREDIT_CHARS, credit_code

# Enough households per grid (about 20) for buildings of about ten households each.
HOUSEHOLDS = 20_000


@pytest.fixture(scope="module")
def small_demo(django_db_setup, django_db_blocker):
    """The foundation's demo (no other app's data) at 20,000 households, committed once for
    the module and removed afterwards."""
    with django_db_blocker.unblock():
        if demo.exists():
            demo.reset()
        # A transactional test earlier in the session flushes the catalogues the migration
        # seeded: put them back as the migration does.
        if not (ResidentTagKind.objects.exists() and UnitType.objects.exists()):
            seeding = importlib.import_module("grids.migrations.0011_seed_catalogues")
            seeding.seed(django_apps, None)
        result = demo.build(HOUSEHOLDS)
        # Statistics now, as `manage.py demo` takes them after its build: planned on what
        # autovacuum last saw (empty tables), a count of residents by their grids' street ran
        # for minutes instead of milliseconds whenever autovacuum came round late (a loaded
        # machine, one database per test process).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield result
        demo.reset()


@pytest.fixture
def built(small_demo, db):
    return small_demo


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def test_buildings_hold_every_household_at_about_ten_each(built):
    assert built.basedata.buildings == Building.objects.count()
    assert Building.objects.count() == pytest.approx(HOUSEHOLDS / 10, rel=0.06)
    assert not Household.objects.filter(Q(building__isnull=True) | Q(standard_address__isnull=True))
    # A household's building is in its grid (the building stands at its most central
    # household), and the household's address is its standard address.
    apart = Household.objects.exclude(grid=None).exclude(building__grid=None)
    assert apart.exclude(building__grid=F("grid")).count() <= HOUSEHOLDS * 0.01
    sample = Household.objects.select_related("standard_address")[:200]
    assert all(h.address == h.standard_address.text for h in sample)
    uses = dict(Building.objects.values_list("use").annotate(n=Count("pk")))
    assert 0.80 <= share(uses["residential"], Building.objects.count()) <= 0.90
    assert {"commercial", "mixed", "public", "industrial"} <= set(uses)
    # Households live in residential and mixed buildings only.
    assert set(Building.objects.filter(households__isnull=False).values_list("use", flat=True)) <= {
        "residential",
        "mixed",
    }


def test_buildings_look_like_buildings(built):
    urban = Q(grid__community__parent__code__lte="500118007")
    rural = Q(grid__community__parent__code__gt="500118007")
    homes = Building.objects.filter(use="residential")
    assert set(homes.filter(rural).values_list("floors", flat=True)) <= {1, 2, 3}
    floors = homes.filter(urban).values_list("floors", flat=True)
    assert floors and all(6 <= f <= 33 for f in floors)
    years = Building.objects.values_list("built_year", flat=True)
    assert all(1980 <= y <= 2024 for y in years)
    with connection.cursor() as cursor:
        # Every footprint holds its point, and is tens of metres across, not degrees.
        cursor.execute(
            "SELECT count(*) FILTER (WHERE NOT ST_Contains(footprint, location)), "
            "max(ST_Area(footprint::geography)), min(ST_Area(footprint::geography)) "
            "FROM grids_building"
        )
        outside, largest, smallest = cursor.fetchone()
    assert outside == 0
    assert smallest > 50 and largest < 10_000
    # A building is registered no later than the first of its households.
    late = Building.objects.filter(households__registered_on__lt=F("registered_on")).count()
    assert late == 0
    assert Building.objects.values("code").distinct().count() == Building.objects.count()


def test_standard_addresses_urban_and_rural(built):
    households = Household.objects.count()
    buildings = Building.objects.count()
    assert households < Address.objects.count() <= households + buildings
    assert Address.objects.values("text").distinct().count() == Address.objects.count()
    urban = Address.objects.filter(community__parent__code__lte="500118007", room__gt="")
    rural = Address.objects.filter(community__parent__code__gt="500118007")
    assert urban.exists() and rural.exists()
    one = urban.first()
    assert one.text.startswith("重庆市永川区") and one.text.endswith(f"{one.unit_no}单元{one.room}")
    assert "栋" in one.text and one.building_no
    assert all(a.road.endswith("组") and a.text.endswith(f"{a.number}号") for a in rural[:50])
    # An address is at its building's point, in its grid.
    assert not Address.objects.exclude(building__location=F("location")).exists()
    assert not Address.objects.exclude(building__grid=F("grid")).exclude(grid=None).exists()


def test_residents_registration_and_relation(built):
    residents = Resident.objects.count()
    urban = Resident.objects.filter(household__grid__community__parent__code__lte="500118007")
    rural = Resident.objects.filter(household__grid__community__parent__code__gt="500118007")
    floating_urban = share(urban.filter(registration="floating").count(), urban.count())
    floating_rural = share(rural.filter(registration="floating").count(), rural.count())
    assert 0.15 <= floating_urban <= 0.25
    assert 0.04 <= floating_rural <= 0.12
    assert share(Resident.objects.filter(registration="overseas").count(), residents) < 0.005
    floating = Resident.objects.exclude(registration="registered")
    assert not floating.filter(Q(residence_since=None) | Q(origin="")).exists()
    assert not Resident.objects.filter(registration="registered").exclude(origin="").exists()
    # One head per household; spouses at most one; the relations a 户口簿 has.
    heads = Household.objects.annotate(
        heads=Count("residents", filter=Q(residents__relation="head")),
        spouses=Count("residents", filter=Q(residents__relation="spouse")),
    )
    assert set(heads.values_list("heads", flat=True)) == {1}
    assert max(heads.values_list("spouses", flat=True)) == 1
    relations = set(Resident.objects.values_list("relation", flat=True))
    assert {"head", "spouse", "child", "parent", "grandchild", "sibling", "other"} == relations


def tag_share(code: str, of=None) -> float:
    people = of if of is not None else Resident.objects.all()
    return share(people.filter(tags__contains=[code]).count(), people.count())


def test_care_and_key_tags_at_real_rates(built):
    assert 0.17 <= tag_share("elderly") <= 0.23
    assert 0.12 <= tag_share("child") <= 0.18
    assert 0.015 <= tag_share("low_income") <= 0.04
    assert 0.04 <= tag_share("disabled") <= 0.08
    assert 0.0005 <= tag_share("extreme_poverty") <= 0.006
    assert 0.004 <= tag_share("veteran") <= 0.02
    adults = Resident.objects.filter(birth_date__lte="2008-01-01")
    assert 0.04 <= tag_share("party_member", adults) <= 0.10
    assert tag_share("key_population") < 0.02
    # 低保 is a household's: every member of a 低保 household has it.
    low = Household.objects.filter(residents__tags__contains=["low_income"]).distinct()
    assert all(h.residents.exclude(tags__contains=["low_income"]).count() == 0 for h in low[:50])
    # 独居老人: the old in one-person households; 留守儿童 only in villages; 特困 never 低保.
    alone = Resident.objects.filter(tags__contains=["living_alone"])
    assert not alone.exclude(household__member_count=1).exists()
    assert not alone.exclude(tags__contains=["elderly"]).exists()
    left = Resident.objects.filter(tags__contains=["left_behind_child"])
    assert left.exists()
    assert not left.filter(household__grid__community__parent__code__lte="500118007").exists()
    assert not Resident.objects.filter(tags__contains=["extreme_poverty", "low_income"]).exists()
    # Every tag is a catalogue code; levels only where the catalogue has them, from its list.
    catalogue = dict(ResidentTagKind.objects.values_list("code", "levels"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT unnest(tags) FROM grids_resident")
        assert {code for (code,) in cursor.fetchall()} <= set(catalogue)
    disabled = Resident.objects.filter(tags__contains=["disabled"])
    levels = [r.tag_levels.get("disabled") for r in disabled]
    assert set(levels) <= set(catalogue["disabled"]) and len(set(levels)) == 4
    assert not Resident.objects.exclude(tags__contains=["disabled"]).filter(
        tag_levels__has_key="disabled"
    )


def test_units_by_type_in_buildings(built):
    units = Unit.objects.count()
    assert units == round(HOUSEHOLDS * 0.03)
    by_type = dict(
        Unit.objects.values_list("type__code")
        .annotate(n=Count("pk"))
        .values_list("type__code", "n")
    )
    commonest = sorted(by_type, key=by_type.get, reverse=True)[:3]
    assert set(commonest) <= {"self_employed", "shop", "private", "restaurant"}
    assert share(by_type.get("self_employed", 0) + by_type.get("shop", 0), units) > 0.35
    # Enterprises are mostly in industrial or commercial buildings, shops never in factories.
    assert not Unit.objects.filter(type__code="shop", building__use="industrial").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(ST_Distance(u.location::geography, b.location::geography)) "
            "FROM grids_unit u JOIN grids_building b ON b.id = u.building_id"
        )
        (farthest,) = cursor.fetchone()
    assert farthest < 10
    assert not Unit.objects.filter(Q(building=None) | Q(standard_address=None)).exists()
    for unit in Unit.objects.exclude(credit_code="")[:100]:
        assert credit_code(unit.credit_code[:2], unit.credit_code[8:16]) == unit.credit_code
        assert set(unit.credit_code) <= set(CREDIT_CHARS)
    assert not Unit.objects.filter(type__code="party_org").exclude(credit_code="").exists()
    employees = list(Unit.objects.exclude(employees=None).values_list("employees", flat=True))
    assert min(employees) >= 1
    # Heavy-tailed: most units are small, a few are large.
    assert sorted(employees)[len(employees) // 2] <= 5 and max(employees) >= 50
    assert all(len(u.contact_phone) >= 11 and u.legal_person for u in Unit.objects.all()[:50])


def test_same_district_whether_built_with_it_or_added_after(built):
    def picture():
        return (
            list(Building.objects.order_by("code").values_list("code", "use", "floors")[:300]),
            list(Address.objects.order_by("text").values_list("text", flat=True)[:300]),
            list(Unit.objects.order_by("client_key").values_list("name", "type__code")[:300]),
            list(
                Resident.objects.order_by("pk").values_list(
                    "registration", "relation", "tags", "tag_levels", "origin"
                )[:500]
            ),
            list(Household.objects.order_by("pk").values_list("address", flat=True)[:300]),
        )

    before = picture()
    # A demo built before the 一标三实: `demo --if-empty` (what ./gridline up runs) adds them.
    demo_basedata.clear()
    assert demo_basedata.missing()
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue() and "一标三实 added" in out.getvalue()
    assert picture() == before
    # --basedata-only replaces them, with the same result.
    out = io.StringIO()
    call_command("demo", "--basedata-only", stdout=out)
    assert "一标三实 added" in out.getvalue()
    assert picture() == before
    assert Building.objects.count() == built.basedata.buildings
    assert Unit.objects.count() == built.basedata.units


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def features(user, layer: str, lon: float, lat: float, z: int) -> list[dict]:
    client = Client()
    client.force_login(user)
    response = client.get("/tiles/{}/{}/{}/{}.pbf".format(layer, *tile_of(lon, lat, z)))
    assert response.status_code == 200
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        import gzip

        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body).get(layer, {}).get("features", []) if body else []


def test_building_tiles_are_scoped_footprints_and_counts_below(built):
    worker = User.objects.get(username="gridworker")
    district = User.objects.get(username="district")
    department = User.objects.get(username="department")
    mine = Building.objects.filter(grid=worker.grid).first()
    theirs = Building.objects.exclude(grid=worker.grid).exclude(grid=None).first()
    for user, building, seen in (
        (worker, mine, True),
        (worker, theirs, False),
        (district, theirs, True),
        (department, theirs, True),  # places are what departments ask about
    ):
        point = building.location
        found = features(user, "buildings", point.x, point.y, 17)
        assert (building.pk in {f["id"] for f in found}) is seen
        if seen:
            feature = next(f for f in found if f["id"] == building.pk)
            assert feature["geometry"]["type"] == "Polygon"
            assert feature["properties"]["use"] == building.use
    # Below street zoom, one point per grid with its count: the worker's own grid only.
    point = mine.location
    per_grid = features(worker, "buildings", point.x, point.y, 12)
    assert [(f["properties"]["code"], f["properties"]["n"]) for f in per_grid] == [
        (worker.grid.code, Building.objects.filter(grid=worker.grid).count())
    ]


def test_unit_tiles_carry_no_personal_field(built):
    district = User.objects.get(username="district")
    worker = User.objects.get(username="gridworker")
    unit = Unit.objects.exclude(grid=None).exclude(grid=worker.grid).first()
    found = features(district, "units", unit.location.x, unit.location.y, 17)
    feature = next(f for f in found if f["id"] == unit.pk)
    assert feature["properties"]["type_code"] == unit.type.code
    for f in found:
        assert not {"legal_person", "contact_phone", "credit_code"} & set(f["properties"])
        values = {str(v) for v in f["properties"].values()}
        assert unit.contact_phone not in values and unit.legal_person not in values
    assert unit.pk not in {
        f["id"] for f in features(worker, "units", unit.location.x, unit.location.y, 17)
    }
    # The type filter: a top-level type matches its children.
    client = Client()
    client.force_login(district)
    z, x, y = tile_of(unit.location.x, unit.location.y, 17)
    parent = unit.type.parent.code if unit.type.parent_id else unit.type.code
    response = client.get(f"/tiles/units/{z}/{x}/{y}.pbf?type={parent}")
    assert response.status_code == 200
    response = client.get(f"/tiles/units/{z}/{x}/{y}.pbf?type=no_such_type")
    assert response.status_code == 400


def test_reset_clears_the_basedata(built):
    demo.reset()
    for model in (Building, Address, Unit, Household, Resident):
        assert not model.objects.exists()
    assert ResidentTagKind.objects.exists() and UnitType.objects.exists()  # catalogues kept
