"""一标三实 beyond households (issue #17): buildings, units and standard addresses keyed to
their grid on write and re-keyed with their history by a boundary change; their lifetimes
and scoping; residents' tags checked against the catalogue held as data, which an
administrator extends."""

from __future__ import annotations

import datetime as dt

import pytest
from boundary_apply_helpers import EAST, WEST, item, strip
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from shapely.geometry import box

from boundaries.services import changesets
from boundaries.services.impact import preview
from grids.changes import data_changed
from grids.models import (
    Address,
    AuditLog,
    Building,
    BuildingGridHistory,
    Household,
    Resident,
    ResidentTagKind,
    Unit,
    UnitGridHistory,
    UnitType,
    today,
)
from grids.problems import ProblemsError
from grids.services import basedata, boundaries, households, stats
from grids.services.boundaries import BoundaryChange
from tests.conftest import VALID_FROM, centre_of

# Community (1, 1): lon 105.90-105.95, lat 29.30-29.35; its grids 001 (west) and 002 (east).
CX0, CY0, CX1, CY1 = 105.90, 29.30, 105.95, 29.35
NEW_EDGE = 105.93
CHANGE = dt.date(2025, 7, 1)
# A valid unified social credit code (GB 32100-2015 check character).
CREDIT_CODE = "91500118MA5U8G6X1R"


def pt(x: float, y: float) -> Point:
    return Point(x, y, srid=4326)


def building(x: float, y: float, code: str, **fields) -> Building:
    made, created = basedata.create_building(code=code, location=pt(x, y), **fields)
    assert created
    return made


def unit(x: float, y: float, name: str = "好又多超市", **fields) -> Unit:
    fields.setdefault("type", "shop")
    made, created = basedata.create_unit(name=name, location=pt(x, y), **fields)
    assert created
    return made


def problems_of(call, *args, **kwargs) -> dict[str, tuple[str, str | None]]:
    """{field: (code, value)} of the problems a call is refused with."""
    with pytest.raises(ProblemsError) as exc:
        call(*args, **kwargs)
    return {p.field: (p.code, p.value) for p in exc.value.problems}


# ------------------------------------------------------------------ keyed on write


def test_buildings_units_and_addresses_are_keyed_to_their_grid_on_write(tree):
    grid = tree.grids[(1, 1, 1)]
    home = building(105.91, 29.32, "B-001", floors=6)
    shop = unit(105.91, 29.32, building=home, employees=3)
    address, created = basedata.get_or_create_address("中山路5号", location=pt(105.91, 29.32))

    assert created
    assert (home.grid, shop.grid, address.grid) == (grid, grid, grid)
    assert not home.flagged and not shop.flagged
    # Located in community (1, 1): the standard text is the tree's names and the locality,
    # so the same door typed with its district and street is the same address.
    assert address.community == tree.communities[(1, 1)]
    assert address.text == "永川区街道1社区11中山路5号"
    assert (address.road, address.number) == ("中山路", "5号")
    again, created = basedata.get_or_create_address(
        "重庆市永川区中山路5号", location=pt(105.911, 29.321)
    )
    assert not created and again.pk == address.pk


def test_a_footprint_alone_gives_a_point_inside_it_that_keys_the_building(tree):
    # An L-shaped footprint in grid (1, 1, 1) whose centroid is outside the L: the point on
    # surface is inside it, so the building is keyed where it stands.
    ell = Polygon(
        (
            (105.910, 29.310),
            (105.920, 29.310),
            (105.920, 29.312),
            (105.912, 29.312),
            (105.912, 29.320),
            (105.910, 29.320),
            (105.910, 29.310),
        ),
        srid=4326,
    )
    assert not ell.contains(ell.centroid)

    made, _ = basedata.create_building(code="B-L", footprint=ell)

    assert isinstance(made.footprint, MultiPolygon)
    assert made.footprint.contains(made.location)
    assert made.grid == tree.grids[(1, 1, 1)]


def test_a_point_outside_every_grid_is_kept_and_flagged(tree):
    outside = pt(106.2, 29.5)  # in China, east of the district

    shed = building(106.2, 29.5, "B-OUT")
    stall = unit(106.2, 29.5)
    address, _ = basedata.get_or_create_address("石梯村3组12号", location=outside)

    assert shed.grid is None and shed.flagged
    assert stall.grid is None and stall.flagged
    assert address.grid is None and address.community is None
    assert list(Building.objects.unassigned()) == [shed]
    assert list(Unit.objects.unassigned()) == [stall]


def test_a_resend_with_the_same_client_key_is_not_duplicated(tree, users):
    first, created = basedata.create_building(
        code="B-K", location=pt(105.91, 29.32), client_key="phone-1"
    )
    again, created_again = basedata.create_building(
        code="B-K", location=pt(105.91, 29.32), client_key="phone-1"
    )
    assert created and not created_again and again.pk == first.pk
    # A key another jurisdiction's row carries is a conflict, not a way to read that row.
    assert problems_of(
        basedata.create_building,
        code="B-K2",
        location=centre_of(tree.grids[(2, 2, 2)]),
        client_key="phone-1",
        user=users.other_worker,
    ) == {"client_key": ("key_conflict", None)}


def test_bad_fields_are_refused_by_name_and_nothing_is_written(tree, users):
    building(105.91, 29.32, "B-1")
    refused = problems_of(
        basedata.create_building,
        code="B-1",
        location=pt(105.91, 29.32),
        floors=0,
        built_year=2999,
        use="castle",
    )
    assert refused == {
        "floors": ("out_of_range", "0"),
        "built_year": ("out_of_range", "2999"),
        "use": ("invalid_choice", "castle"),
    }
    assert problems_of(basedata.create_building, code="B-1", location=pt(105.91, 29.32)) == {
        "code": ("code_taken", "B-1")
    }
    assert problems_of(basedata.create_building, code="B-3", location=pt(29.32, 105.91)) == {
        "location": ("outside_extent", "29.32,105.91")
    }
    assert problems_of(basedata.create_building, code="B-4") == {
        "location": ("missing_location", None)
    }
    # A grid worker writes only in their grid.
    assert problems_of(
        basedata.create_building,
        code="B-5",
        location=centre_of(tree.grids[(2, 2, 2)]),
        user=users.worker,
    ) == {"location": ("outside_jurisdiction", None)}
    assert list(Building.objects.values_list("code", flat=True)) == ["B-1"]


def test_units_are_checked_against_the_type_catalogue_and_the_credit_code(tree):
    assert basedata.credit_code_valid(CREDIT_CODE)
    school = unit(105.91, 29.32, "永川中学", type="中学", credit_code=CREDIT_CODE.lower())
    assert school.type.code == "middle" and school.type.parent.code == "school"
    assert school.credit_code == CREDIT_CODE

    refused = problems_of(
        basedata.create_unit,
        name="某公司",
        type="spaceport",
        credit_code=CREDIT_CODE[:-1] + "0",
        contact_phone="call me",
        location=pt(105.91, 29.32),
    )
    assert refused["type"] == ("unknown_unit_type", "spaceport")
    assert refused["credit_code"] == ("invalid_credit_code", CREDIT_CODE[:-1] + "0")
    # A phone is personal: the problem names the field, never the value.
    assert refused["contact_phone"] == ("invalid_phone", None)

    UnitType.objects.filter(code="hotel").update(active=False)
    assert problems_of(basedata.create_unit, name="旅馆", type="hotel", location=pt(105.91, 29.32))[
        "type"
    ] == ("retired_unit_type", "hotel")


# ------------------------------------------------------------- lifetimes, past days


def test_existing_on_follows_registration_and_removal(tree):
    old = building(105.91, 29.32, "B-OLD", registered_on=dt.date(2024, 3, 1))
    basedata.remove_building(old, dt.date(2025, 1, 1))
    new = building(105.91, 29.33, "B-NEW")
    shop = unit(105.91, 29.32, registered_on=dt.date(2024, 6, 1))

    def on(day):
        return set(Building.objects.existing_on(day).values_list("code", flat=True))

    assert on(dt.date(2024, 2, 1)) == set()
    assert on(dt.date(2024, 6, 1)) == {"B-OLD"}
    assert on(dt.date(2025, 1, 1)) == set()  # removed that day
    assert on(None) == {"B-NEW"}
    assert new.registered_on == today()
    assert list(Unit.objects.existing_on(dt.date(2024, 5, 31))) == []
    assert list(Unit.objects.existing_on(dt.date(2024, 6, 1))) == [shop]


def test_a_back_dated_write_announces_the_change_on_commit(
    tree, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, subject, since, **kwargs):
        heard.append((subject, since))

    data_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            made = building(105.91, 29.32, "B-PAST", registered_on=dt.date(2024, 3, 1))
            building(105.91, 29.33, "B-TODAY")  # effective today: nothing to drop
        with django_capture_on_commit_callbacks(execute=True):
            basedata.remove_building(made, dt.date(2025, 2, 1))
        with django_capture_on_commit_callbacks(execute=True):
            unit(105.91, 29.32, registered_on=dt.date(2024, 5, 1))
    finally:
        data_changed.disconnect(receiver)

    assert heard == [
        ("buildings", dt.date(2024, 3, 1)),
        ("buildings", dt.date(2025, 2, 1)),
        ("units", dt.date(2024, 5, 1)),
    ]


def move_edge(tree, x: float, on: dt.date) -> None:
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    boundaries.change_boundaries(
        [
            BoundaryChange(west, box(CX0, CY0, x, CY1)),
            BoundaryChange(east, box(x, CY0, CX1, CY1)),
        ],
        valid_from=on,
        reason="道路改线",
    )


def test_a_boundary_change_rekeys_them_and_keeps_the_grid_they_left(tree):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    moving = building(105.927, 29.32, "B-MOVE", registered_on=VALID_FROM)
    staying = building(105.94, 29.32, "B-STAY", registered_on=VALID_FROM)
    gone = building(105.928, 29.33, "B-GONE", registered_on=VALID_FROM)
    basedata.remove_building(gone, dt.date(2025, 1, 1))  # removed before the change
    shop = unit(105.927, 29.321, registered_on=VALID_FROM)
    address, _ = basedata.get_or_create_address("中山路7号", location=pt(105.927, 29.322))
    assert {moving.grid, shop.grid, address.grid} == {east}

    move_edge(tree, NEW_EDGE, CHANGE)

    for row in (moving, staying, gone, shop, address):
        row.refresh_from_db()
    assert (moving.grid, shop.grid, address.grid) == (west, west, west)
    assert staying.grid == east
    assert gone.grid == east  # it no longer existed: it stays where it was
    assert list(
        BuildingGridHistory.objects.values_list("building", "grid", "valid_from", "valid_to")
    ) == [(moving.pk, east.pk, VALID_FROM, CHANGE)]
    assert list(UnitGridHistory.objects.values_list("unit", "grid", "valid_from", "valid_to")) == [
        (shop.pk, east.pk, VALID_FROM, CHANGE)
    ]
    # A day before the change counts them in the grid they were in then; today, where they are.
    before = stats.existing_with_grid_on(Building, dt.date(2025, 3, 1))
    assert dict(before.values_list("code", "grid_on")) == {"B-MOVE": east.pk, "B-STAY": east.pk}
    now = stats.existing_with_grid_on(Unit, today())
    assert list(now.values_list("grid_on", flat=True)) == [west.pk]


def test_the_boundary_impact_preview_counts_them(tree, users):
    building(105.927, 29.32, "B-MOVE")
    unit(105.927, 29.321)
    basedata.get_or_create_address("中山路7号", location=pt(105.927, 29.322))
    change_set = changesets.create(user=users.worker, region=tree.communities[(1, 1)], title="预览")
    item(change_set, WEST, strip(105.90, NEW_EDGE))
    item(change_set, EAST, strip(NEW_EDGE, 105.95))

    totals = preview(change_set)["totals"]

    assert (totals["buildings"], totals["units"], totals["addresses"]) == (1, 1, 1)


# ------------------------------------------------------------------------- scoping


def test_visible_to_follows_the_jurisdiction_and_departments_see_their_district(tree, users):
    here = building(105.91, 29.32, "B-111")  # grid (1, 1, 1)
    there = building(*centre_of(tree.grids[(2, 2, 2)]).coords, "B-222")
    nowhere = building(106.2, 29.5, "B-OUT")
    seen = {
        "admin": {here, there, nowhere},
        "district": {here, there, nowhere},  # the district centre clears up the unassigned
        "street": {here},
        "community": {here},
        "worker": {here},
        "other_worker": {there},
        "department": {here, there},  # places, not people: its district's
    }
    for role, expected in seen.items():
        user = getattr(users, role)
        assert set(Building.objects.visible_to(user)) == expected, role
    shop = unit(105.91, 29.32)
    assert list(Unit.objects.visible_to(users.worker)) == [shop]
    assert list(Unit.objects.visible_to(users.other_worker)) == []
    address, _ = basedata.get_or_create_address("中山路5号", location=pt(105.91, 29.32))
    assert list(Address.objects.visible_to(users.community)) == [address]
    assert list(Address.objects.visible_to(users.other_worker)) == []
    # Without a point an address is in no grid: seen by those over the community it names.
    unlocated = Address.objects.create(text="社区11某巷3号", community=tree.communities[(1, 1)])
    for role, sees in {
        "worker": True,  # its grid's community
        "community": True,
        "street": True,
        "department": True,
        "other_worker": False,
    }.items():
        visible = Address.objects.visible_to(getattr(users, role))
        assert visible.filter(pk=unlocated.pk).exists() is sees, role
        assert visible.count() == len(set(visible.values_list("pk", flat=True))), role


# ------------------------------------------------------------- tags as data


def resident(*tags: str, **extra) -> dict:
    return {
        "name": "王芳",
        "id_number": "500118198001011234",
        "birth_date": dt.date(1950, 1, 1),
        "sex": "F",
        "tags": list(tags),
        **extra,
    }


def test_tags_and_levels_are_checked_against_the_catalogue(tree, add_household):
    home = add_household(centre_of(tree.grids[(1, 1, 1)]))

    (kept,) = households.add_residents(
        home,
        [
            resident(
                "disabled",
                "elderly",
                "disabled",
                tag_levels={"disabled": "二级"},
                registration="floating",
                residence_since=dt.date(2020, 5, 1),
                origin="四川省泸州市",
                relation="head",
            )
        ],
    )
    kept.refresh_from_db()
    assert kept.tags == ["disabled", "elderly"]
    assert kept.tag_levels == {"disabled": "二级"}
    assert (kept.registration, kept.relation, kept.origin) == ("floating", "head", "四川省泸州市")

    refused = problems_of(
        households.add_residents,
        home,
        [resident("elderly", "flying", tag_levels={"disabled": "一级", "elderly": "高龄"})],
    )
    assert refused == {
        "tags": ("unknown_tag", "flying"),
        "tag_levels.disabled": ("level_without_tag", "一级"),
        "tag_levels.elderly": ("unknown_level", "高龄"),
    }
    assert problems_of(
        households.add_residents, home, [resident("disabled", tag_levels={"disabled": "五级"})]
    ) == {"tag_levels.disabled": ("unknown_level", "五级")}
    assert Resident.objects.count() == 1


def test_a_kind_an_administrator_adds_is_accepted_and_counted_at_once(
    tree, users, add_household, client
):
    home = add_household(centre_of(tree.grids[(1, 1, 1)]))
    assert problems_of(households.add_residents, home, [resident("hearing")]) == {
        "tags": ("unknown_tag", "hearing")
    }
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)

    response = client.post(
        "/admin/grids/residenttagkind/add/",
        {
            "code": "hearing",
            "name": "听力残疾",
            "group": "care",
            "levels": '["一级", "二级"]',
            "order": 30,
            "active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    households.add_residents(home, [resident("hearing", tag_levels={"hearing": "一级"})])
    assert stats.grid_figures()[tree.grids[(1, 1, 1)].pk].tags["hearing"] == 1

    # Retired: kept by whoever carries it, given to nobody new.
    ResidentTagKind.objects.filter(code="hearing").update(active=False)
    assert problems_of(households.add_residents, home, [resident("hearing")]) == {
        "tags": ("retired_tag", "hearing")
    }


def test_a_catalogue_is_extended_only_by_administrators(tree, users, client):
    users.street.is_staff = True
    users.street.save()
    client.force_login(users.street)
    assert client.get("/admin/grids/residenttagkind/").status_code == 200
    response = client.post(
        "/admin/grids/unittype/add/", {"code": "farm", "name": "农场", "order": 1, "active": "on"}
    )
    assert response.status_code == 403
    assert not UnitType.objects.filter(code="farm").exists()


def test_bad_levels_are_refused_in_the_admin(tree, users, client):
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)
    response = client.post(
        "/admin/grids/residenttagkind/add/",
        {"code": "x", "name": "某", "group": "care", "levels": '["一级", "一级"]', "order": 1},
    )
    assert response.status_code == 200  # the form again, with its error
    assert not ResidentTagKind.objects.filter(code="x").exists()


# --------------------------------------------------------------------------- admin


def test_a_building_drawn_in_the_admin_is_keyed_by_its_footprint(tree, users, client):
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)
    square = box(105.910, 29.310, 105.912, 29.312)
    geojson = (
        '{"type": "MultiPolygon", "coordinates": [[['
        + ", ".join(f"[{x}, {y}]" for x, y in square.exterior.coords)
        + "]]]}"
    )

    response = client.post(
        "/admin/grids/building/add/",
        {
            "code": "B-ADMIN",
            "name": "1号楼",
            "use": "residential",
            "floors": "6",
            "footprint": geojson,
            "location": "",
            "registered_on": today().isoformat(),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    made = Building.objects.get(code="B-ADMIN")
    assert made.footprint.contains(made.location)
    assert made.grid == tree.grids[(1, 1, 1)]


def test_a_units_personal_fields_are_masked_for_departments_and_audited_for_others(
    tree, users, client
):
    shop = unit(105.91, 29.32, legal_person="张三丰", contact_phone="13812345678")
    for user in (users.department, users.worker):
        user.is_staff = True
        user.save()

    client.force_login(users.department)
    page = client.get(f"/admin/grids/unit/{shop.pk}/change/").content.decode()
    assert "13812345678" not in page and "张三丰" not in page
    assert "138****5678" in page
    assert not AuditLog.objects.exists()

    client.force_login(users.worker)
    page = client.get(f"/admin/grids/unit/{shop.pk}/change/").content.decode()
    assert "13812345678" in page
    (logged,) = AuditLog.objects.all()
    assert (logged.model, logged.object_ids, logged.channel) == ("unit", [shop.pk], "admin")


def test_a_household_is_linked_to_its_building_and_standard_address(tree, add_household):
    home = add_household(pt(105.91, 29.32))
    block = building(105.91, 29.32, "B-H")
    address, _ = basedata.get_or_create_address("中山路5号3单元201", location=pt(105.91, 29.32))

    basedata.link_household(home, building=block, standard_address=address)

    home = Household.objects.get(pk=home.pk)
    assert (home.building, home.standard_address) == (block, address)
    assert list(block.households.all()) == [home]
    assert address.unit_no == "3"


def test_the_admin_lists_are_scoped_and_render(tree, users, client, django_assert_max_num_queries):
    mine = building(105.91, 29.32, "B-MINE")
    building(*centre_of(tree.grids[(2, 2, 2)]).coords, "B-THEIRS")
    shop = unit(105.91, 29.32)
    address, _ = basedata.get_or_create_address("中山路5号", location=pt(105.91, 29.32))
    users.worker.is_staff = True
    users.worker.save()
    client.force_login(users.worker)

    with django_assert_max_num_queries(20):
        page = client.get("/admin/grids/building/").content.decode()
    assert "B-MINE" in page and "B-THEIRS" not in page
    for path in ("unit", "address", "residenttagkind", "unittype"):
        assert client.get(f"/admin/grids/{path}/").status_code == 200, path
    for path, row in (("building", mine), ("unit", shop), ("address", address)):
        assert client.get(f"/admin/grids/{path}/{row.pk}/change/").status_code == 200, path


def test_the_household_admin_checks_residents_tags_against_the_catalogue(
    tree, users, client, add_household
):
    home = add_household(centre_of(tree.grids[(1, 1, 1)]))
    users.worker.is_staff = True
    users.worker.save()
    client.force_login(users.worker)
    form = {
        "address": home.address,
        "location": home.location.geojson,
        "registered_on": home.registered_on.isoformat(),
        "residents-TOTAL_FORMS": "1",
        "residents-INITIAL_FORMS": "0",
        "residents-MIN_NUM_FORMS": "0",
        "residents-MAX_NUM_FORMS": "1000",
        "residents-0-name": "王芳",
        "residents-0-id_number": "500118198001011234",
        "residents-0-birth_date": "1950-01-01",
        "residents-0-sex": "F",
        "residents-0-registration": "registered",
        "residents-0-relation": "head",
        "residents-0-tags": "elderly,flying",
        "residents-0-tag_levels": "{}",
    }

    refused = client.post(f"/admin/grids/household/{home.pk}/change/", form)

    assert refused.status_code == 200
    assert "flying" in refused.content.decode()
    assert not Resident.objects.exists()
    form["residents-0-tags"] = "elderly,disabled"
    form["residents-0-tag_levels"] = '{"disabled": "三级"}'
    saved = client.post(f"/admin/grids/household/{home.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    (kept,) = Resident.objects.all()
    assert (kept.tags, kept.tag_levels) == (["elderly", "disabled"], {"disabled": "三级"})


def test_moving_a_place_rekeys_it_and_a_footprint_moves_its_point(tree, users):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    block = building(105.91, 29.32, "B-MV")
    shop = unit(105.91, 29.32)

    basedata.update_building(block, footprint=box(105.940, 29.320, 105.942, 29.322).wkt)
    basedata.update_unit(shop, location=pt(105.94, 29.32), employees=12)

    block.refresh_from_db()
    shop.refresh_from_db()
    assert block.grid == east and block.footprint.contains(block.location)
    assert (shop.grid, shop.employees) == (east, 12)
    assert problems_of(basedata.update_unit, shop, employees=-1) == {
        "employees": ("out_of_range", "-1")
    }
    # A grid worker cannot move a place out of their grid.
    mine = building(105.91, 29.33, "B-W", user=users.worker)
    assert mine.grid == west
    assert problems_of(
        basedata.update_building, mine, location=pt(105.94, 29.33), user=users.worker
    ) == {"location": ("outside_jurisdiction", None)}
    mine.refresh_from_db()
    assert mine.grid == west
    basedata.remove_unit(shop)
    assert not Unit.objects.existing_on(today()).exists()
