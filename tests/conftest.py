"""Shared fixtures: a small real tree in PostGIS, a user for every role, API clients.

The tree (lon 105.90-106.00, lat 29.30-29.40, district 500118):

    street 001 (west half)  communities 001001 (south), 001002 (north)
    street 002 (east half)  communities 002001 (south), 002002 (north)
    each community: grid 001 (its west half) and grid 002 (its east half)
"""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient
from shapely.geometry import box

from grids import catalogue as grids_catalogue
from grids.models import Department, Level, ResidentTagKind, Role, UnitType, User
from grids.services import boundaries, demo, households
from incidents.models import Category, WhistleClass
from incidents.services import Report, report_incident
from maps import tiles
from needs import catalogue as needs_catalogue
from needs.models import ServiceKind
from reports.models import Indicator, IndicatorGroup, ValidationRule
from reports.services.indicators import GROUPS
from sensors import catalogue as sensor_catalogue
from sensors.models import SensorType

# Fixtures of the boundary editor (issue #7); the order of tests in several processes.
pytest_plugins = ["boundary_fixtures", "field_fixtures", "needs_fixtures", "parallel_order"]

DISTRICT = "500118"
VALID_FROM = dt.date(2024, 1, 1)
X0, Y0, X1, Y1 = 105.90, 29.30, 106.00, 29.40


def cell(x0, y0, x1, y1):
    return box(x0, y0, x1, y1)


@pytest.fixture(autouse=True)
def fast_test_settings(settings, tmp_path_factory):
    """Test users need no slow password hashing, and whitenoise need not scan collected
    static files for every test client."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    # Uploads (incident photos...) never land in the checkout's var/media, which the served
    # demo uses and another test process writes at the same time.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    # Never a shared cache: clearing it would empty a running instance's Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.GRIDLINE_SHARED_CACHE = False
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    # Under live_server /events/ is the WSGI poll fallback: a stream ends after 5 s (the
    # browser reconnects with its last event id), so no thread polls past its test.
    settings.GRIDLINE_LIVE_WSGI_SECONDS = 5
    cache.clear()
    # Each test has its own data under the same layer version numbers.
    tiles.forget_process_caches()


@pytest.fixture(scope="module")
def built_demo(django_db_setup, django_db_blocker):
    """The demo district at 3,000 households, built once per module that asks for it (it
    takes seconds), committed, and removed afterwards. Yields the command's output."""
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("demo", "--scale", "3000", stdout=out)
        # Statistics for every table now, not when autovacuum comes round: the command
        # analyses the tables it fills in bulk, but grids, regions and histories would keep
        # what autovacuum last saw (often an empty table) for a time that grows with the
        # machine's load and the number of databases (one per test process).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield out.getvalue()
        demo.reset()
        # The foundation's reset keeps other apps' catalogues; the demo's 一表通 catalogue
        # (collected indicators, rules, its own groups) goes too, so later tests start clean.
        ValidationRule.objects.all().delete()
        Indicator.objects.collected().delete()
        IndicatorGroup.objects.exclude(code__in=[code for code, _n, _o in GROUPS]).delete()


@pytest.fixture
def district(built_demo, db):
    return built_demo


@pytest.fixture
def tree(db):
    # The catalogues migrations seed are emptied by a transactional test's flush; put the
    # built-in sensor types (and their alert categories) back as migration 0003 does.
    sensor_catalogue.seed(SensorType, Category)
    grids_catalogue.seed(ResidentTagKind, UnitType)
    needs_catalogue.seed(ServiceKind)
    district = boundaries.create_region(
        level=Level.DISTRICT,
        code=DISTRICT,
        name="永川区",
        geom=cell(X0, Y0, X1, Y1),
        valid_from=VALID_FROM,
    )
    t = SimpleNamespace(district=district, streets={}, communities={}, grids={})
    xm, ym = (X0 + X1) / 2, (Y0 + Y1) / 2
    for s, (sx0, sx1) in enumerate([(X0, xm), (xm, X1)], 1):
        street = boundaries.create_region(
            level=Level.STREET,
            code=f"{DISTRICT}{s:03d}",
            name=f"街道{s}",
            geom=cell(sx0, Y0, sx1, Y1),
            parent=district,
            valid_from=VALID_FROM,
        )
        t.streets[s] = street
        for c, (cy0, cy1) in enumerate([(Y0, ym), (ym, Y1)], 1):
            community = boundaries.create_region(
                level=Level.COMMUNITY,
                code=f"{street.code}{c:03d}",
                name=f"社区{s}{c}",
                geom=cell(sx0, cy0, sx1, cy1),
                parent=street,
                valid_from=VALID_FROM,
            )
            t.communities[(s, c)] = community
            gx = (sx0 + sx1) / 2
            for g, (gx0, gx1) in enumerate([(sx0, gx), (gx, sx1)], 1):
                t.grids[(s, c, g)] = boundaries.create_grid(
                    code=f"{community.code}{g:03d}",
                    name=f"网格{s}{c}{g}",
                    community=community,
                    geom=cell(gx0, cy0, gx1, cy1),
                    valid_from=VALID_FROM,
                )
    return t


def centre_of(grid) -> Point:
    return grid.boundary_on().point_on_surface


@pytest.fixture
def make_user(db):
    def make(username: str, role: str, **jurisdiction) -> User:
        return User.objects.create_user(
            username=username, password="pw-" + username, role=role, **jurisdiction
        )

    return make


@pytest.fixture
def users(tree, make_user):
    department = Department.objects.create(
        code="civil-affairs", name="民政局", district=tree.district
    )
    return SimpleNamespace(
        admin=make_user("admin", Role.ADMINISTRATOR),
        district=make_user("district", Role.DISTRICT_CENTRE, region=tree.district),
        street=make_user("street", Role.STREET_CENTRE, region=tree.streets[1]),
        community=make_user("community", Role.COMMUNITY_STAFF, region=tree.communities[(1, 1)]),
        worker=make_user("worker", Role.GRID_WORKER, grid=tree.grids[(1, 1, 1)]),
        other_worker=make_user("other_worker", Role.GRID_WORKER, grid=tree.grids[(2, 2, 2)]),
        department=make_user("department", Role.DEPARTMENT, department=department),
    )


@pytest.fixture
def add_household(db):
    def add(point: Point, address: str = "重庆市永川区测试路1号", **kwargs):
        household, _ = households.create_household(address=address, location=point, **kwargs)
        return household

    return add


@pytest.fixture
def homes(tree, add_household):
    """One household at the centre of every grid, keyed by the grid's (s, c, g)."""
    return {
        key: add_household(centre_of(grid), address=f"地址{key}")
        for key, grid in tree.grids.items()
    }


@pytest.fixture
def api():
    def client(user=None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client


@pytest.fixture
def catalogue(users):
    """Two departments, a category dispatched to transport by default, a whistle class."""
    transport = Department.objects.create(
        code="transport", name="交通局", district=users.department.department.district
    )
    return {
        "category": Category.objects.create(
            code="T0101",
            name="井盖缺失",
            department=transport,
            deadlines={"normal": {"register": 2, "dispatch": 4, "feed_back": 48}},
        ),
        "whistle": WhistleClass.objects.create(
            code="urgent", name="紧急类", acknowledge_hours=0.5, report_back_hours=24
        ),
        "transport": transport,
        "civil": users.department.department,
    }


@pytest.fixture
def incident(tree, users, catalogue):
    found, _ = report_incident(
        Report(
            title="校车太挤",
            category="T0101",
            source="patrol",
            location=centre_of(tree.grids[(1, 1, 1)]),
        ),
        user=users.worker,
    )
    return found
