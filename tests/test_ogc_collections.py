"""The published collections of OGC API – Features (issue #19): what each one is made of and
what `datetime` gives (ogc/collections.py, sensors/ogc.py, incidents/ogc.py).

These tests read the collections through the registry (`collection.rows(user, interval)`, what
the items endpoint reads), so they hold whatever the views do with the rows; the scoping per
role is in tests/test_ogc_scope.py.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from shapely.geometry import box

from grids.models import Household, Level, Resident, Role, User, today
from grids.scoping import MASKS
from grids.services import boundaries, households
from grids.services.boundaries import BoundaryChange, change_boundaries
from incidents.models import Incident
from ogc import registry
from ogc.registry import TYPES, Interval
from sensors.models import SensorType
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import VALID_FROM, centre_of

CORE = ["districts", "streets", "communities", "grids", "grid-versions", "households", "incidents"]
REDRAWN_ON = dt.date(2025, 1, 1)
# Grids 1-1-1 and 1-1-2 share the edge x = 105.925; the redraw moves it east to 105.93.
OLD_EDGE, NEW_EDGE = 105.925, 105.93
BETWEEN = Point(105.9275, 29.32, srid=4326)  # in 1-1-2 before the redraw, in 1-1-1 after


def on(day: dt.date) -> Interval:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    return Interval(moment, moment)


def between(start: dt.date | None, end: dt.date | None) -> Interval:
    def moment(day):
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if day else None

    return Interval(moment(start), moment(end))


def rows(collection_id: str, user, interval: Interval | None = None):
    collection = registry.get(collection_id, user)
    assert collection is not None, collection_id
    return collection.rows(user, interval)


def features(collection_id: str, user, interval: Interval | None = None) -> dict:
    """{feature id: {property: value}} as the sources give them."""
    collection = registry.get(collection_id, user)
    sources = {p.name: p.source for p in collection.properties}
    found = {}
    for row in rows(collection_id, user, interval).values(collection.id_field, *sources.values()):
        found[row[collection.id_field]] = {name: row[src] for name, src in sources.items()}
    return found


def x_range(collection_id: str, user, fid, interval: Interval | None = None):
    collection = registry.get(collection_id, user)
    [geom] = (
        rows(collection_id, user, interval)
        .filter(**{collection.id_field: fid})
        .values_list(collection.geometry, flat=True)
    )
    xs = [x for x, _y in geom.envelope.coords[0]]
    return round(min(xs), 6), round(max(xs), 6)


@pytest.fixture
def redrawn(tree):
    """The shared edge of grids 1-1-1 and 1-1-2 moved east from 2025-01-01, with a household
    registered in 2024 between the two edges (moved from 1-1-2 to 1-1-1 by the redraw)."""
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    home, _ = households.create_household(
        address="边界路1号", location=BETWEEN, registered_on=VALID_FROM
    )
    assert home.grid_id == east.pk
    change_boundaries(
        [
            BoundaryChange(west, box(105.90, 29.30, NEW_EDGE, 29.35)),
            BoundaryChange(east, box(NEW_EDGE, 29.30, 105.95, 29.35)),
        ],
        valid_from=REDRAWN_ON,
        reason="边界调整",
    )
    home.refresh_from_db()
    assert home.grid_id == west.pk
    return home


# --- the contract ----------------------------------------------------------------------------


def test_every_collection_is_declared_consistently(tree, users):
    collections = registry.collections_for(users.admin)
    ids = [c.id for c in collections]
    assert set(CORE) <= set(ids)
    assert {"sensors-camera", "sensors-voice_pole", "sensors-water_tank"} <= set(ids)
    assert len(ids) == len(set(ids))
    for collection in collections:
        assert collection.title and collection.description, collection.id
        qs = collection.rows(users.admin)
        model = qs.model
        # The geometry is a stored column of the base model: its GiST index serves bbox.
        field = model._meta.get_field(collection.geometry)
        assert isinstance(field, GeometryField) and field.srid == 4326, collection.id
        assert field.spatial_index or collection.geometry == "location", collection.id
        assert collection.id_type in ("integer", "string")
        names = [p.name for p in collection.properties]
        assert len(names) == len(set(names)), collection.id
        for prop in collection.properties:
            assert prop.type in TYPES and str(prop.title), (collection.id, prop.name)
            assert not (prop.type == "object" and prop.queryable), prop.name
        # Every source and the id resolve in one query over the collection's rows.
        list(qs.values(collection.id_field, *(p.source for p in collection.properties))[:1])


def test_no_collection_publishes_personal_data(tree, users):
    """No property reaches a person: residents, users (reporters, leaders, workers), the
    masked fields, or an incident's free-text description."""
    personal = (set(MASKS) - {"name"}) | {
        "residents",
        "reporter",
        "leader",
        "workers",
        "user",
        "description",
        "satisfaction",
    }
    for collection in registry.collections_for(users.admin):
        assert collection.rows(users.admin).model not in (Resident, User), collection.id
        for prop in collection.properties:
            parts = {prop.name, *str(prop.source).split("__")}
            assert not parts & personal, (collection.id, prop.name)
    assert "residents" not in {c.id for c in registry.collections_for(users.admin)}


def test_feature_ids_are_codes_and_keys(tree, users, homes, incident):
    grid = tree.grids[(1, 1, 1)]
    grids = features("grids", users.admin)
    assert set(grids) == {g.code for g in tree.grids.values()}
    assert grids[grid.code] == {
        "code": grid.code,
        "name": grid.name,
        "community": tree.communities[(1, 1)].code,
        "theme": "governance",
        "colour": "blue",
        "version": grid.version,
        "valid_from": VALID_FROM,
        "valid_to": None,
    }
    streets = features("streets", users.admin)
    assert streets[tree.streets[1].code]["parent"] == tree.district.code
    assert features("districts", users.admin)[tree.district.code]["full_coverage"] is True
    communities = features("communities", users.admin)
    assert set(communities) == {c.code for c in tree.communities.values()}
    home = homes[(1, 1, 1)]
    assert features("households", users.admin)[home.pk] == {
        "address": home.address,
        "grid": grid.code,
        "member_count": 0,
        "registered_on": home.registered_on,
        "removed_on": None,
        "client_key": home.client_key,
        "updated_at": home.updated_at,
    }
    found = features("incidents", users.admin)[incident.pk]
    assert found["category"] == "T0101" and found["category_name"] == "井盖缺失"
    assert found["grid"] == grid.code and found["status"] == incident.status


def test_sensors_are_a_collection_per_type(tree, users):
    camera = create_sensor(
        SensorSpec(
            code="CAM-1",
            type="camera",
            location=centre_of(tree.grids[(1, 1, 1)]),
            name="路口摄像头",
            properties={"bearing": 90, "fov": 60, "range": 200},
        )
    )
    tank = create_sensor(
        SensorSpec(
            code="TANK-1",
            type="water_tank",
            location=centre_of(tree.grids[(1, 1, 2)]),
            properties={"capacity_m3": 50},
        )
    )
    cameras = features("sensors-camera", users.admin)
    assert set(cameras) == {camera.code}
    assert cameras["CAM-1"]["properties"] == {"bearing": 90, "fov": 60, "range": 200}
    assert cameras["CAM-1"]["type"] == "camera" and cameras["CAM-1"]["role"] == "camera"
    assert cameras["CAM-1"]["grid"] == tree.grids[(1, 1, 1)].code
    assert set(features("sensors-water_tank", users.admin)) == {tank.code}
    assert registry.get("sensors-no-such-type", users.admin) is None
    collection = registry.get("sensors-camera", users.admin)
    assert collection.title == "视频监控" and collection.id_field == "code"


def test_a_district_type_is_a_collection_in_its_district_only(tree, users, make_user):
    SensorType.objects.create(code="hydrant", name="消火栓", role="other", district=tree.district)
    assert registry.get("sensors-hydrant", users.street) is not None
    assert registry.get("sensors-hydrant", users.department) is not None
    other = boundaries.create_region(
        level=Level.DISTRICT,
        code="500119",
        name="江津区",
        geom=box(106.00, 29.30, 106.10, 29.40),
        valid_from=VALID_FROM,
    )
    outsider = make_user("jiangjin", Role.DISTRICT_CENTRE, region=other)
    assert registry.get("sensors-hydrant", outsider) is None
    assert "sensors-hydrant" not in {c.id for c in registry.collections_for(outsider)}
    SensorType.objects.filter(code="hydrant").update(active=False)
    assert registry.get("sensors-hydrant", users.street) is None


# --- time ------------------------------------------------------------------------------------


def test_a_redrawn_grid_has_its_old_shape_on_an_old_date(tree, users, redrawn):
    code = tree.grids[(1, 1, 1)].code
    admin = users.admin
    assert x_range("grids", admin, code) == (105.90, NEW_EDGE)
    assert x_range("grids", admin, code, on(dt.date(2024, 6, 1))) == (105.90, OLD_EDGE)
    assert x_range("grids", admin, code, on(REDRAWN_ON - dt.timedelta(days=1))) == (
        105.90,
        OLD_EDGE,
    )
    assert x_range("grids", admin, code, on(REDRAWN_ON)) == (105.90, NEW_EDGE)
    # Before the tree existed there is no grid at all.
    assert not rows("grids", admin, on(dt.date(2023, 6, 1))).exists()
    old = features("grids", admin, on(dt.date(2024, 6, 1)))[code]
    assert (old["valid_from"], old["valid_to"]) == (VALID_FROM, REDRAWN_ON)


def test_an_interval_gives_each_grid_once_its_last_version_within(tree, users, redrawn):
    code = tree.grids[(1, 1, 1)].code
    admin = users.admin
    across = between(dt.date(2024, 6, 1), dt.date(2025, 6, 1))
    ids = list(rows("grids", admin, across).values_list("grid__code", flat=True))
    assert len(ids) == len(set(ids)) == len(tree.grids)
    assert x_range("grids", admin, code, across) == (105.90, NEW_EDGE)
    assert x_range("grids", admin, code, between(dt.date(2024, 2, 1), dt.date(2024, 6, 1))) == (
        105.90,
        OLD_EDGE,
    )
    assert x_range("grids", admin, code, between(None, dt.date(2024, 6, 1))) == (105.90, OLD_EDGE)
    assert x_range("grids", admin, code, between(dt.date(2024, 6, 1), None)) == (105.90, NEW_EDGE)


def test_grid_versions_are_every_version_with_a_stable_id(tree, users, redrawn):
    grid = tree.grids[(1, 1, 1)]
    admin = users.admin
    mine = {fid: f for fid, f in features("grid-versions", admin).items() if f["grid"] == grid.code}
    assert len(mine) == 2
    old_id = next(fid for fid, f in mine.items() if f["valid_to"] == REDRAWN_ON)
    new_id = next(fid for fid, f in mine.items() if f["valid_to"] is None)
    assert mine[new_id]["reason"] == "边界调整"

    def ids(interval):
        found = features("grid-versions", admin, interval)
        return {fid for fid, f in found.items() if f["grid"] == grid.code}

    assert ids(on(dt.date(2024, 6, 1))) == {old_id}
    assert ids(on(REDRAWN_ON)) == {new_id}
    assert ids(between(dt.date(2024, 6, 1), dt.date(2025, 6, 1))) == {old_id, new_id}
    assert ids(between(REDRAWN_ON, None)) == {new_id}


def test_a_same_day_redraw_leaves_a_record_no_date_returns(tree, users):
    grid = tree.grids[(2, 1, 1)]
    for edge in (105.96, 105.965):
        change_boundaries(
            [
                BoundaryChange(grid, box(105.95, 29.30, edge, 29.35)),
                BoundaryChange(tree.grids[(2, 1, 2)], box(edge, 29.30, 106.00, 29.35)),
            ],
            valid_from=today(),
        )
    versions = [
        f for f in features("grid-versions", users.admin).values() if f["grid"] == grid.code
    ]
    assert len(versions) == 3  # the zero-length one is kept as a record
    dated = features("grid-versions", users.admin, on(today()))
    assert [f["valid_from"] for f in dated.values() if f["grid"] == grid.code] == [today()]
    assert x_range("grids", users.admin, grid.code, on(today())) == (105.95, 105.965)
    interval = between(today() - dt.timedelta(days=3), today())
    assert x_range("grids", users.admin, grid.code, interval) == (105.95, 105.965)


def test_a_household_has_its_grid_then_on_a_past_date(tree, users, redrawn):
    west, east = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    admin = users.admin
    assert features("households", admin)[redrawn.pk]["grid"] == west.code
    assert features("households", admin, on(dt.date(2024, 6, 1)))[redrawn.pk]["grid"] == east.code
    assert features("households", admin, on(REDRAWN_ON))[redrawn.pk]["grid"] == west.code
    # An interval: the grid as at its end.
    ending_before = between(dt.date(2024, 2, 1), dt.date(2024, 6, 1))
    assert features("households", admin, ending_before)[redrawn.pk]["grid"] == east.code
    assert features("households", admin, between(dt.date(2024, 2, 1), None))[redrawn.pk][
        "grid"
    ] == (west.code)
    # Filtering on the grid property filters on the grid then (what a CQL2 filter compiles to).
    then = rows("households", admin, on(dt.date(2024, 6, 1)))
    assert list(then.filter(grid_code=east.code).values_list("pk", flat=True)) == [redrawn.pk]


def test_a_grid_then_the_user_cannot_see_is_not_named(tree, users, redrawn):
    """The household moved into the worker's grid 1-1-1 from 1-1-2, which is not the
    worker's: on a past date its grid then is withheld (decision 4: no answer names another
    jurisdiction's code), for the community of both grids it is named; a filter cannot
    probe it either."""
    east = tree.grids[(1, 1, 2)]
    past = on(dt.date(2024, 6, 1))
    assert features("households", users.worker, past)[redrawn.pk]["grid"] is None
    assert features("households", users.community, past)[redrawn.pk]["grid"] == east.code
    assert not rows("households", users.worker, past).filter(grid_code=east.code).exists()
    ending_before = between(dt.date(2024, 2, 1), dt.date(2024, 6, 1))
    assert features("households", users.worker, ending_before)[redrawn.pk]["grid"] is None
    client = Client()
    client.force_login(users.worker)
    for params in (
        {"datetime": "2024-06-01"},
        {"datetime": "2024-06-01", "filter": f"grid = '{east.code}'"},
        {"datetime": "2024-06-01", "grid": east.code},
    ):
        response = client.get("/ogc/collections/households/items", {"f": "json", **params})
        assert response.status_code == 200, response.content
        # (The self links repeat the request's own parameters.)
        assert east.code not in json.dumps(response.json()["features"]), params


def test_the_temporal_extent_is_the_users(tree, users):
    """The first boundary date of a grid the user cannot see is not the user's to learn."""
    other = tree.grids[(2, 2, 2)]
    other.boundaries.update(valid_from=dt.date(2020, 1, 1))
    grids = registry.get("grids", users.admin)
    assert grids.temporal_extent(users.admin)[0] == "2020-01-01"
    assert grids.temporal_extent(users.worker)[0] == VALID_FROM.isoformat()
    versions = registry.get("grid-versions", users.worker)
    assert versions.temporal_extent(users.worker)[0] == VALID_FROM.isoformat()
    streets = registry.get("streets", users.worker)
    assert streets.temporal_extent(users.worker) == (None, None)  # a worker has no region


def test_households_exist_from_registration_to_removal(tree, users, add_household):
    point = centre_of(tree.grids[(1, 2, 1)])
    old = add_household(point, address="旧户", registered_on=dt.date(2024, 3, 1))
    gone = add_household(point, address="迁出户", registered_on=dt.date(2024, 3, 1))
    Household.objects.filter(pk=gone.pk).update(removed_on=dt.date(2025, 3, 1))
    new = add_household(point, address="新户")
    admin = users.admin

    def ids(interval=None):
        return set(rows("households", admin, interval).values_list("pk", flat=True))

    assert ids() == {old.pk, new.pk}
    assert ids(on(dt.date(2024, 6, 1))) == {old.pk, gone.pk}
    assert ids(on(dt.date(2025, 3, 1))) == {old.pk}  # removed that day
    assert ids(on(dt.date(2024, 1, 1))) == set()
    assert ids(between(dt.date(2024, 6, 1), None)) == {old.pk, gone.pk, new.pk}
    assert ids(between(dt.date(2025, 3, 1), None)) == {old.pk, new.pk}
    assert ids(between(None, dt.date(2024, 2, 1))) == set()


def test_incidents_by_the_day_they_were_reported(tree, users, incident):
    Incident.objects.filter(pk=incident.pk).update(
        reported_at=timezone.make_aware(dt.datetime(2025, 5, 1, 23, 30))
    )
    admin = users.admin

    def ids(interval):
        return set(rows("incidents", admin, interval).values_list("pk", flat=True))

    assert ids(on(dt.date(2025, 5, 1))) == {incident.pk}
    assert ids(on(dt.date(2025, 5, 2))) == set()
    # The day is the local day (Asia/Shanghai): 23:30 there is 15:30 UTC, still May 1st.
    utc = dt.datetime(2025, 5, 1, 3, 0, tzinfo=dt.UTC)
    assert ids(Interval(utc, utc)) == {incident.pk}
    assert ids(between(dt.date(2025, 5, 1), dt.date(2025, 5, 2))) == {incident.pk}
    assert ids(between(dt.date(2025, 5, 2), None)) == set()
    assert ids(between(None, dt.date(2025, 5, 1))) == set()  # midnight: before 23:30


def test_regions_on_a_date_follow_their_versions(tree, users):
    admin = users.admin
    assert set(features("communities", admin, on(dt.date(2024, 6, 1)))) == {
        c.code for c in tree.communities.values()
    }
    assert not rows("streets", admin, on(dt.date(2023, 12, 31))).exists()
    assert set(features("districts", admin, between(dt.date(2023, 1, 1), None))) == {
        tree.district.code
    }


def test_the_rows_are_read_in_one_query(tree, users, homes, incident):
    """Each collection's rows, properties included, are one statement (no query per row)."""
    for collection_id in CORE + ["sensors-camera"]:
        collection = registry.get(collection_id, users.admin)
        qs = collection.rows(users.admin).order_by(collection.id_field)
        with CaptureQueriesContext(connection) as queries:
            list(qs.values(collection.id_field, *(p.source for p in collection.properties)))
        assert len(queries) == 1, collection_id


def test_datetime_through_the_items_endpoint(tree, users, redrawn):
    client = Client()
    client.force_login(users.admin)
    code = tree.grids[(1, 1, 1)].code

    def items(collection_id, **params):
        response = client.get(
            f"/ogc/collections/{collection_id}/items", {"f": "json", "limit": 1000, **params}
        )
        assert response.status_code == 200, response.content
        return {f["id"]: f for f in response.json()["features"]}

    def xs(feature):
        return sorted({x for ring in feature["geometry"]["coordinates"][0] for x, _y in ring})

    assert xs(items("grids", code=code)[code]) == [105.90, NEW_EDGE]
    assert xs(items("grids", code=code, datetime="2024-06-01")[code]) == [105.90, OLD_EDGE]
    across = items("grids", datetime="2024-06-01/2025-06-01")
    assert len(across) == len(tree.grids) and xs(across[code]) == [105.90, NEW_EDGE]
    east = tree.grids[(1, 1, 2)].code
    then = items("households", datetime="2024-06-01")[redrawn.pk]
    assert then["properties"]["grid"] == east
    assert items("households")[redrawn.pk]["properties"]["grid"] == code
    versions = items("grid-versions", grid=code)
    assert len(versions) == 2 and all(isinstance(fid, int) for fid in versions)


# Pinned: the session and the user (read from the database with locmem://), the page, the
# numberMatched COUNT of the small collections, the sensor types of the family's collections.
QUERIES_PER_PAGE = {
    "districts": 4,
    "streets": 4,
    "communities": 4,
    "grids": 4,
    "grid-versions": 4,
    "households": 3,  # large: no COUNT
    "incidents": 3,  # large: no COUNT
    "sensors-camera": 4,  # large; + the types the user may see
}


def test_an_items_page_costs_the_same_queries_for_one_feature_or_many(tree, users, homes, incident):
    """No query per feature: a page of every collection costs as many statements with one
    feature as with all of them (the first request signs in and warms the caches)."""
    for key, grid in tree.grids.items():
        create_sensor(
            SensorSpec(
                code=f"CAM-{''.join(map(str, key))}",
                type="camera",
                location=centre_of(grid),
                properties={"bearing": 0, "fov": 90, "range": 100},
            )
        )
    client = Client()
    client.force_login(users.admin)
    client.get("/ogc/collections", {"f": "json"})
    for collection_id in CORE + ["sensors-camera"]:
        counts = []
        for limit in (1, 100):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(
                    f"/ogc/collections/{collection_id}/items", {"f": "json", "limit": limit}
                )
            assert response.status_code == 200, collection_id
            counts.append(len(queries))
        assert counts == [QUERIES_PER_PAGE[collection_id]] * 2, (collection_id, counts)
