"""OGC API – Features read by clients nobody here wrote (issue #19): GDAL's OAPIF driver
(Debian's `ogrinfo`/`ogr2ogr` 3.6, and pyogrio's bundled GDAL 3.12) and OWSLib, over real
HTTP against a live server, authenticated as a desktop user would be (a token header for
GDAL 3.6, HTTP Basic for pyogrio's GDAL, whose OAPIF driver does not send
GDAL_HTTP_HEADERS), and scoped as every other read. QGIS is checked by tools/qgis_check.py
(too heavy for the default run).

What the clients request and parse is in the README's "QGIS and GDAL" section; the
assertions here are what a district GIS desk would notice: every collection listed, the
right counts, geometry types, CRS and attributes, every page followed once, a bbox and a
filter answered by the server (not by GDAL downloading everything), a GeoPackage equal to
the database, a Gauss-Krüger zone (Part 2) as PROJ computes it, and OWSLib's writes (Part 4)
within a grid worker's grid only."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import requests
from django.contrib.gis.geos import Point, Polygon
from django.core import signals
from pyproj import Transformer

from grids.models import Household
from grids.services import tokens
from ogc import registry
from sensors.models import Status
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import X0, Y0

OGRINFO = shutil.which("ogrinfo")
OGR2OGR = shutil.which("ogr2ogr")
PASSWORD = "ogc-client-password"
# Grid (1, 1, 1) of the test tree is lon 105.900-105.925, lat 29.30-29.35.
GRID_111 = (X0, Y0, X0 + 0.025, Y0 + 0.05)
# What GDAL calls the GeoJSON geometry types.
OGR_GEOMETRY = {
    "Point": ("Point", "Point"),
    "MultiPoint": ("Multi Point", "MultiPoint"),
    "LineString": ("Line String", "LineString"),
    "Polygon": ("Polygon", "Polygon"),
    "MultiPolygon": ("Multi Polygon", "MultiPolygon"),
}

pytestmark = [
    pytest.mark.skipif(
        OGRINFO is None or OGR2OGR is None, reason="Debian's gdal-bin (ogrinfo, ogr2ogr) is missing"
    ),
    # A live server reads committed data. No serialized rollback: the fixtures seed what the
    # migrations seed (tree: sensor types; catalogue: categories), and restoring the
    # serialized rows after another live-server file's flush clashes on content types.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(live_server, settings, tree, users, homes, add_household, incident):
    """The conftest tree with a household in every grid, ten more in grid (1, 1, 1) (so a
    worker's pages are several), a camera and a voice pole, users with passwords (Basic)
    and tokens."""
    # The live server speaks plain HTTP; Basic is refused there unless allowed.
    settings.GRIDLINE_OGC_BASIC_AUTH = "any"
    x0, y0, x1, y1 = GRID_111
    extra = [
        add_household(
            Point(x0 + (x1 - x0) * (i + 1) / 12, y0 + (y1 - y0) * (i % 4 + 1) / 6, srid=4326),
            address=f"重庆市永川区测试路{i + 1}号",
        )
        for i in range(10)
    ]
    sensors = [
        create_sensor(
            SensorSpec(
                code="cam-1",
                type="camera",
                location=Point(x0 + 0.005, y0 + 0.005, srid=4326),
                properties={"bearing": 0, "fov": 360, "range": 100},
                status=Status.ONLINE,
            )
        ),
        create_sensor(
            SensorSpec(
                code="pole-1",
                type="voice_pole",
                location=Point(105.99, 29.39, srid=4326),
                properties={"broadcast_radius": 300},
                status=Status.ONLINE,
            )
        ),
    ]
    secrets = {}
    for name in ("district", "worker", "other_worker", "department"):
        user = getattr(users, name)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        secrets[name] = tokens.issue(user, "QGIS")[1]
    return SimpleNamespace(
        url=f"{live_server.url}/ogc/",
        tree=tree,
        users=users,
        tokens=secrets,
        homes=homes,
        extra=extra,
        sensors=sensors,
        incident=incident,
    )


@pytest.fixture
def seen():
    """The requests the server received under /ogc/: (path, query as a dict of lists)."""
    received = []

    def record(sender, environ, **kwargs):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/ogc/"):
            received.append((path, parse_qs(environ.get("QUERY_STRING", ""))))

    signals.request_started.connect(record, dispatch_uid="test_ogc_clients")
    yield received
    signals.request_started.disconnect(dispatch_uid="test_ogc_clients")


def gdal(tool: str, *args: str, token: str | None = None) -> str:
    """Run a GDAL command line tool with the user's token; fails on any ERROR it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_", "OGR_"))}
    env |= {"GDAL_HTTP_TIMEOUT": "60", "GDAL_HTTP_MAX_RETRY": "0", "NO_PROXY": "*"}
    if token:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: Token {token}"
    run = subprocess.run([tool, *args], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr + run.stdout[-2000:]
    # GDAL reports what it could not use (a media type, a 4xx) as ERROR and carries on.
    assert "ERROR" not in run.stderr, run.stderr
    return run.stdout


def layers_of(ogrinfo_summary: str) -> dict[str, dict]:
    """`ogrinfo -so -al` output by layer: geometry, feature count, field names, SRS text."""
    found = {}
    for block in ogrinfo_summary.split("\nLayer name: ")[1:]:
        lines = block.splitlines()
        values = dict(line.split(": ", 1) for line in lines[1:] if ": " in line[:40])
        fields = [
            line.split(": ", 1)[0]
            for line in lines
            if ": " in line
            and not line.startswith((" ", "\t"))
            and line.rstrip().endswith(")")
            and line.split(": ", 1)[1].split(" ")[0].split("(")[0]
            in {"String", "Integer", "Integer64", "Real", "Date", "DateTime", "Time"}
        ]
        found[lines[0].strip()] = {
            "geometry": values.get("Geometry"),
            "count": int(values.get("Feature Count", "-1")),
            "fields": fields,
            "text": block,
        }
    return found


def feature_ids(ogrinfo_features: str, layer: str) -> list[int]:
    prefix = f"OGRFeature({layer}):"
    return [
        int(line[len(prefix) :])
        for line in ogrinfo_features.splitlines()
        if line.startswith(prefix)
    ]


def item_requests(seen, collection_id: str) -> list[dict]:
    return [query for path, query in seen if path == f"/ogc/collections/{collection_id}/items"]


def household_ids(user, **filters) -> list[int]:
    return sorted(Household.objects.visible_to(user).filter(**filters).values_list("id", flat=True))


def expected_fields(collection) -> set[str]:
    """GDAL makes an integer feature id the FID; a string id becomes a field `id`."""
    names = {p.name for p in collection.properties}
    return names | ({"id"} if collection.id_type == "string" else set())


def test_gdal_lists_and_copies_every_collection(world, tmp_path):
    user = world.users.district
    expected = {c.id: c for c in registry.collections_for(user)}
    assert {"households", "grids", "incidents"} <= set(expected)

    summary = layers_of(
        gdal(OGRINFO, "-ro", "-so", "-al", f"OAPIF:{world.url}", token=world.tokens["district"])
    )
    assert set(summary) == set(expected)

    # One copy of everything the user sees, as a desk would take it home.
    gpkg = tmp_path / "all.gpkg"
    gdal(
        OGR2OGR,
        "-f",
        "GPKG",
        "-preserve_fid",
        str(gpkg),
        f"OAPIF:{world.url}",
        token=world.tokens["district"],
    )
    import pyogrio

    copied = {name for name, _geometry in pyogrio.list_layers(gpkg)}
    for collection_id, collection in expected.items():
        count = collection.queryset(user).count()
        layer = summary[collection_id]
        assert layer["count"] == count, collection_id
        assert 'ID["EPSG",4326]' in layer["text"], collection_id
        if count == 0:
            continue  # GDAL takes the schema from the first page: nothing to compare
        assert layer["geometry"] == OGR_GEOMETRY[collection.geometry_type][0], collection_id
        assert set(layer["fields"]) == expected_fields(collection), collection_id
        assert collection_id in copied
        info = pyogrio.read_info(gpkg, layer=collection_id)
        assert info["features"] == count, collection_id
        assert info["geometry_type"] == OGR_GEOMETRY[collection.geometry_type][1], collection_id
        assert info["crs"] == "EPSG:4326", collection_id
        assert set(info["fields"]) == expected_fields(collection), collection_id


def test_gdal_pages_bbox_and_filter_are_the_servers(world, seen):
    user, token = world.users.district, world.tokens["district"]
    url = f"OAPIF:{world.url}"
    everyone = household_ids(user)
    assert len(everyone) == 18

    # Pages of 4: every page followed once through the `next` links, none twice, none lost.
    listed = gdal(
        OGRINFO,
        "-ro",
        "-al",
        "-q",
        "-oo",
        "PAGE_SIZE=4",
        f"OAPIF:{world.url}",
        "households",
        token=token,
    )
    ids = feature_ids(listed, "households")
    assert sorted(ids) == everyone and len(ids) == len(set(ids))
    pages = [q for q in item_requests(seen, "households") if q.get("limit") == ["4"]]
    assert len(pages) >= math.ceil(len(everyone) / 4)
    assert all("after" in q for q in pages[2:]), pages  # keyset cursors, never an offset

    # -spat: the server gets the bbox and answers it (GDAL would also filter client side).
    seen.clear()
    x0, y0, x1, y1 = GRID_111
    inside = household_ids(user, location__intersects=Polygon.from_bbox(GRID_111))
    assert 0 < len(inside) < len(everyone)
    listed = gdal(
        OGRINFO,
        "-ro",
        "-al",
        "-q",
        "-spat",
        str(x0),
        str(y0),
        str(x1),
        str(y1),
        f"OAPIF:{world.url}",
        "households",
        token=token,
    )
    assert sorted(feature_ids(listed, "households")) == inside
    bboxes = [q["bbox"] for q in item_requests(seen, "households") if "bbox" in q]
    assert bboxes, "GDAL did not send the bbox"
    answered = requests.get(
        f"{world.url}collections/households/items",
        params={"bbox": bboxes[-1][0], "limit": 1000},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).json()
    assert sorted(f["id"] for f in answered["features"]) == inside

    # -where: pushed to the server as CQL (GDAL only does so when the OpenAPI says it may),
    # and the server's answer is the database's.
    seen.clear()
    listed = gdal(
        OGRINFO,
        "-ro",
        "-al",
        "-q",
        "-where",
        "address LIKE '地址%'",
        f"OAPIF:{world.url}",
        "households",
        token=token,
    )
    wanted = household_ids(user, address__startswith="地址")
    assert len(wanted) == 8
    assert sorted(feature_ids(listed, "households")) == wanted
    filters = [q for q in item_requests(seen, "households") if "filter" in q]
    assert filters, "GDAL evaluated the filter itself: the server's OpenAPI did not offer CQL"
    assert "地址" in filters[-1]["filter"][0]
    answered = requests.get(
        f"{world.url}collections/households/items",
        params={"filter": filters[-1]["filter"][0], "filter-lang": filters[-1]["filter-lang"][0]},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).json()
    assert sorted(f["id"] for f in answered["features"]) == wanted

    # One feature by its id: GDAL asks for `<the collection's items link>/<id>`, for an integer
    # id (the FID) and for a string id compared with `=`.
    one = world.homes[(2, 1, 2)]
    listed = gdal(OGRINFO, "-ro", "-q", "-fid", str(one.id), url, "households", token=token)
    assert feature_ids(listed, "households") == [one.id] and one.address in listed
    code = world.tree.grids[(2, 1, 2)].code
    listed = gdal(
        OGRINFO, "-ro", "-al", "-q", "-where", f"id = '{code}'", url, "grids", token=token
    )
    assert len(feature_ids(listed, "grids")) == 1 and f"= {code}" in listed


# pyogrio's GDAL runs in this process and holds the GIL while it reads: the live server's
# thread could not answer it. A child process reads instead.
PYOGRIO_READ = """
import json, os, sys
import pyogrio
options = {"CRS": sys.argv[3]} if len(sys.argv) > 3 else {}
frame = pyogrio.read_dataframe(
    sys.argv[1], layer=sys.argv[2], fid_as_index=True, USERPWD=os.environ["OGC_USERPWD"], **options
)
rows = [[int(fid), row["address"], row.geometry.x, row.geometry.y] for fid, row in frame.iterrows()]
print(json.dumps({"crs": frame.crs.to_string(), "rows": rows}))
"""


def rows_of(frame) -> list[tuple]:
    return [(int(fid), r["address"], r.geometry.x, r.geometry.y) for fid, r in frame.iterrows()]


def _same_households(rows: list, user):
    """Feature ids, addresses and coordinates (to 1e-7°) as the database has them."""
    households = {
        h.id: h for h in Household.objects.visible_to(user).only("id", "address", "location")
    }
    assert sorted(fid for fid, *_rest in rows) == sorted(households)
    for fid, address, x, y in rows:
        household = households[fid]
        assert address == household.address
        assert abs(x - household.location.x) < 1e-7
        assert abs(y - household.location.y) < 1e-7


def test_households_to_geopackage_and_pyogrio(world, tmp_path):
    import pyogrio

    user = world.users.district
    gpkg = tmp_path / "households.gpkg"
    gdal(
        OGR2OGR,
        "-f",
        "GPKG",
        "-preserve_fid",  # the feature ids are the household ids
        str(gpkg),
        f"OAPIF:{world.url}",
        "households",
        token=world.tokens["district"],
    )
    _same_households(rows_of(pyogrio.read_dataframe(gpkg, fid_as_index=True)), user)

    # pyogrio's own GDAL (a newer one), HTTP Basic as a USERPWD open option.
    read = pyogrio_read(f"OAPIF:{world.url}", "households")
    _same_households(read["rows"], user)
    assert "4326" in read["crs"] or "CRS84" in read["crs"]

    # GDAL 3.12 speaks Part 2: the CGCS2000 Gauss-Krüger zone of the district (3°, CM 105°E),
    # easting/northing as PROJ computes them from the stored coordinates, to the millimetre.
    read = pyogrio_read(f"OAPIF:{world.url}", "households", "EPSG:4544")
    assert "4544" in read["crs"]
    to_zone = Transformer.from_crs(4326, 4544, always_xy=True)
    stored = {h.id: h.location for h in Household.objects.visible_to(user)}
    assert sorted(fid for fid, *_rest in read["rows"]) == sorted(stored)
    for fid, _address, easting, northing in read["rows"]:
        expected = to_zone.transform(stored[fid].x, stored[fid].y)
        assert abs(easting - expected[0]) < 1e-3 and abs(northing - expected[1]) < 1e-3


def pyogrio_read(url: str, layer: str, crs: str | None = None) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PYOGRIO_READ, url, layer, *([crs] if crs else [])],
        env=os.environ | {"OGC_USERPWD": f"district:{PASSWORD}"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_owslib_reads_landing_conformance_collections_items_queryables(world, monkeypatch):
    import owslib.ogcapi
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    # OWSLib 0.35 adds the caller's headers to its module-wide defaults: keep them apart.
    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))
    user = world.users.district
    features = Features(world.url, headers={"Authorization": f"Token {world.tokens['district']}"})
    rels = {link["rel"] for link in features.links}
    assert {"service-desc", "conformance", "data"} <= rels
    conforms = features.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms
    visible = {c.id for c in registry.collections_for(user)}
    assert {c["id"] for c in features.collections()["collections"]} == visible
    assert set(features.feature_collections()) == visible
    assert features.collection("households")["id"] == "households"

    page = features.collection_items("households", limit=2)
    assert page["type"] == "FeatureCollection"
    assert page["numberReturned"] == 2
    ids = [f["id"] for f in page["features"]]
    assert ids == household_ids(user)[:2]
    assert any(link["rel"] == "next" for link in page["links"])
    inside = features.collection_items("households", bbox=list(GRID_111), limit=100)
    assert sorted(f["id"] for f in inside["features"]) == household_ids(
        user, location__intersects=Polygon.from_bbox(GRID_111)
    )
    assert "address" in features.collection_queryables("households")["properties"]
    assert features.api()["openapi"].startswith("3.")

    # HTTP Basic through OWSLib's Authentication, a fresh client without the token.
    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", {"User-Agent": "OWSLib"})
    basic = Features(world.url, auth=Authentication(username="worker", password=PASSWORD))
    worker_page = basic.collection_items("households", limit=100)
    assert sorted(f["id"] for f in worker_page["features"]) == household_ids(world.users.worker)


def test_scope_through_the_clients(world):
    worker = world.users.worker
    mine = household_ids(worker)
    assert len(mine) == 11  # the grid's own household and the ten extra
    listed = gdal(
        OGRINFO,
        "-ro",
        "-al",
        "-q",
        f"OAPIF:{world.url}",
        "households",
        token=world.tokens["worker"],
    )
    assert sorted(feature_ids(listed, "households")) == mine

    # A department sees no households: not listed to its GDAL, not there when asked.
    layers = gdal(OGRINFO, "-ro", "-q", f"OAPIF:{world.url}", token=world.tokens["department"])
    names = {line.split(": ", 1)[1].split(" (")[0] for line in layers.splitlines() if ": " in line}
    assert "households" not in names and "incidents" in names
    headers = {"Authorization": f"Token {world.tokens['department']}"}
    gone = requests.get(f"{world.url}collections/households/items", headers=headers, timeout=30)
    assert gone.status_code == 404

    # GDAL's OAPIF is read-only; an edit outside the worker's grid through plain HTTP is 404,
    # as if the household did not exist, and nothing changes.
    other = world.homes[(2, 2, 2)]
    url = f"{world.url}collections/households/items/{other.id}"
    headers = {"Authorization": f"Token {world.tokens['worker']}"}
    assert requests.get(url, headers=headers, timeout=30).status_code == 404
    patch = requests.patch(
        url,
        json={"type": "Feature", "properties": {"address": "改了"}},
        headers=headers | {"Content-Type": "application/merge-patch+json", "If-Match": "*"},
        timeout=30,
    )
    assert patch.status_code == 404, patch.text
    put = requests.put(
        url,
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [105.99, 29.39]},
            "properties": {"address": "改了"},
        },
        headers=headers | {"Content-Type": "application/geo+json", "If-Match": "*"},
        timeout=30,
    )
    assert put.status_code == 404, put.text
    delete = requests.delete(url, headers=headers | {"If-Match": "*"}, timeout=30)
    assert delete.status_code == 404, delete.text
    other.refresh_from_db()
    assert other.address == "地址(2, 2, 2)"
    assert Household.objects.filter(pk=other.pk).exists()


def test_owslib_writes_within_the_workers_grid(world, monkeypatch):
    """Part 4 through a client nobody here wrote: OWSLib's create, replace and delete, as a
    grid worker, in their grid; outside it the same calls are refused and write nothing."""
    import owslib.ogcapi
    from owslib.ogcapi.features import Features

    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))
    worker = Features(world.url, headers={"Authorization": f"Token {world.tokens['worker']}"})
    x0, y0, _x1, _y1 = GRID_111

    def feature(address, lon, lat):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"address": address},
        }

    assert worker.collection_item_create(
        "households", feature("重庆市永川区开源路1号", x0 + 0.01, y0 + 0.02)
    )
    created = Household.objects.get(address="重庆市永川区开源路1号")
    assert created.grid == world.tree.grids[(1, 1, 1)]
    worker.collection_item_update(
        "households", str(created.pk), feature("重庆市永川区开源路2号", x0 + 0.011, y0 + 0.02)
    )
    created.refresh_from_db()
    assert created.address == "重庆市永川区开源路2号"
    assert abs(created.location.x - (x0 + 0.011)) < 1e-9
    worker.collection_item_delete("households", str(created.pk))
    created.refresh_from_db()
    assert created.removed_on is not None  # households are removed, never deleted

    other = world.homes[(2, 2, 2)]
    elsewhere = feature("重庆市永川区开源路3号", 105.99, 29.39)  # grid (2, 2, 2)
    with pytest.raises(RuntimeError):
        worker.collection_item_create("households", elsewhere)
    with pytest.raises(RuntimeError):
        worker.collection_item_update("households", str(other.pk), elsewhere)
    with pytest.raises(RuntimeError):
        worker.collection_item_delete("households", str(other.pk))
    assert not Household.objects.filter(address="重庆市永川区开源路3号").exists()
    other.refresh_from_db()
    assert other.address == "地址(2, 2, 2)" and other.removed_on is None
