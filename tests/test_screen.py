"""The wall screen (issue #16): its figures scoped to the jurisdiction, and the kiosk login
(read-only, limited to the screen's paths, long, revocable)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from grids import scoping
from grids.models import User
from incidents.services.reporting import Report, report_incident
from screen.models import Kiosk
from screen.services import figures, kiosks
from sensors.models import AlertKind, SensorAlert
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of

pytestmark = pytest.mark.django_db


def report(tree, users, key, title, user):
    found, _ = report_incident(
        Report(title=title, category="T0101", source="patrol", location=centre_of(tree.grids[key])),
        user=user,
    )
    return found


@pytest.fixture
def scene(tree, users, catalogue, homes):
    """An incident and two devices in street 1, an incident, a device and an open alert in
    street 2."""
    here = report(tree, users, (1, 1, 1), "东门积水", users.worker)
    there = report(tree, users, (2, 2, 2), "西街占道", users.other_worker)
    p1 = centre_of(tree.grids[(1, 1, 1)])
    p2 = centre_of(tree.grids[(2, 2, 2)])
    create_sensor(
        SensorSpec(
            code="CAM-1",
            type="camera",
            location=p1,
            properties={"bearing": 90, "fov": 60, "range": 300},
            status="online",
        )
    )
    create_sensor(
        SensorSpec(
            code="VP-1",
            type="voice_pole",
            location=Point(p1.x + 0.001, p1.y, srid=4326),
            properties={"broadcast_radius": 500},
            status="fault",
        )
    )
    far = create_sensor(
        SensorSpec(
            code="SD-9", type="smoke_detector", name="西街烟感", location=p2, status="offline"
        )
    )
    now = timezone.now()
    SensorAlert.objects.create(sensor=far, kind=AlertKind.OFFLINE, started_at=now, last_at=now)
    return {"here": here, "there": there}


def test_a_street_counts_its_street_only(scene, users, api):
    body = api(users.street).get("/api/screen/figures/").json()
    assert body["scope"]["level"] == "street"
    assert body["incidents"]["incidents_today"] == 1
    assert body["incidents"]["incidents_open"] == 1
    assert body["sensors"]["online"] == 1 and body["sensors"]["fault"] == 1
    assert body["sensors"]["offline"] == 0
    assert body["alerts"]["open"] == 0
    assert body["people"]["households"] == 4
    assert sum(body["colours"].values()) == 4
    assert body["by_area"]["level"] == "community"
    assert body["by_area"]["rows"]
    assert all(row["code"].startswith(users.street.region.code) for row in body["by_area"]["rows"])
    titles = [e["object"].get("title") for e in body["feed"]]
    assert "东门积水" in titles
    text = str(body)
    # Nothing of the other street: its incident, device, alert or name.
    for foreign in ("西街占道", "西街烟感", "SD-9", "街道2"):
        assert foreign not in text


def test_a_district_counts_both_streets(scene, users, api):
    body = api(users.district).get("/api/screen/figures/").json()
    assert body["scope"]["level"] == "district"
    assert body["incidents"]["incidents_today"] == 2
    assert body["sensors"]["offline"] == 1
    assert body["alerts"]["open"] == 1
    assert body["people"]["households"] == 8
    assert body["by_area"]["level"] == "street"
    assert {row["n"] for row in body["by_area"]["rows"]} == {1}
    kinds = {e["kind"] for e in body["feed"]}
    assert kinds == {"incident", "alert"}
    assert len(body["trend"]) == 30
    assert body["trend"][-1]["reported"] == 2


def test_a_grid_worker_sees_its_grid(scene, users, api):
    body = api(users.worker).get("/api/screen/figures/").json()
    assert body["scope"] == {
        "level": "grid",
        "code": users.worker.grid.code,
        "name": users.worker.grid.name,
    }
    assert body["incidents"]["incidents_today"] == 1
    assert body["people"]["households"] == 1
    assert "西街占道" not in str(body)


def test_figures_need_a_login(db):
    response = Client().get("/api/screen/figures/")
    assert response.status_code in (401, 403)
    assert response.json()["errors"]


def test_figures_are_cached_per_jurisdiction_and_follow_incidents(scene, tree, users, api):
    first = api(users.street).get("/api/screen/figures/").json()
    # Another user of the same street reads the cached answer.
    assert scoping.jurisdiction_key(users.street) == scoping.jurisdiction_key(
        User(role="street_centre", region_id=users.street.region_id)
    )
    # A new incident makes them stale: recounted once min_age has passed.
    report(tree, users, (1, 1, 2), "南门倒树", users.street)
    cached = api(users.street).get("/api/screen/figures/").json()
    assert cached["incidents"]["incidents_today"] == first["incidents"]["incidents_today"]
    key = f"screen:figures:{scoping.jurisdiction_key(users.street)}:zh-hans"
    from django.core.cache import cache

    entry = cache.get(key)
    entry["computed"] -= 60
    cache.set(key, entry)
    fresh = api(users.street).get("/api/screen/figures/").json()
    assert fresh["incidents"]["incidents_today"] == first["incidents"]["incidents_today"] + 1


def test_with_a_shared_cache_stale_figures_are_served_while_the_worker_recounts(
    scene, tree, users, api, settings
):
    from django.core.cache import cache
    from procrastinate.contrib.django.models import ProcrastinateJob

    settings.GRIDLINE_SHARED_CACHE = True
    first = api(users.street).get("/api/screen/figures/").json()
    report(tree, users, (1, 1, 2), "南门倒树", users.street)
    figures.bump()
    key = f"screen:figures:{scoping.jurisdiction_key(users.street)}:zh-hans"
    entry = cache.get(key)
    entry["computed"] -= 60
    cache.set(key, entry)
    # Stale: answered at once with the previous figures, and one recount queued however
    # many screens ask.
    for _ in range(3):
        stale = api(users.street).get("/api/screen/figures/").json()
        assert stale["incidents"]["incidents_today"] == first["incidents"]["incidents_today"]
    jobs = ProcrastinateJob.objects.filter(task_name="screen.jobs.refresh_figures")
    assert jobs.count() == 1
    job = jobs.get()
    assert job.args["scope"] == {
        "is_superuser": False,
        "role": "street_centre",
        "region_id": users.street.region_id,
        "grid_id": None,
        "department_id": None,
    }
    # The worker's recount (the job's body), then the fresh answer.
    figures.refresh(job.args["scope"], job.args["language"])
    fresh = api(users.street).get("/api/screen/figures/").json()
    assert fresh["incidents"]["incidents_today"] == first["incidents"]["incidents_today"] + 1


def test_figures_are_cached_under_the_jurisdiction_key_the_tiles_use(tree, users, settings):
    """One rule for "these users see the same" (review M9): the figures' cache key is
    grids.scoping.jurisdiction_key, as the map tiles' is, and the worker's recount of any
    user (an administrator, a superuser without a role) stores under the key the request
    reads."""
    from django.core.cache import cache
    from django.utils import translation

    from maps.tiles import scope_key

    root = User(username="root", role="", is_superuser=True, is_active=True)
    for user in (*vars(users).values(), root):
        assert scope_key(user) == scoping.jurisdiction_key(user)
        key = f"screen:figures:{scoping.jurisdiction_key(user)}:zh-hans"
        cache.delete(key)
        with translation.override("zh-hans"):
            figures.refresh(figures.scope_fields(user), "zh-hans")
        assert cache.get(key) is not None, user.username


def test_figures_take_a_constant_number_of_queries(scene, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        figures.compute(users.district)


# ---- kiosks -------------------------------------------------------------------------------


def issue(api, user, region_code, name="街道大屏"):
    return api(user).post(
        "/api/screen/kiosks/", {"name": name, "region": region_code}, format="json"
    )


def test_a_street_issues_a_kiosk_for_its_street_only(tree, users, api):
    response = issue(api, users.street, tree.streets[1].code)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("gk_") and body["link"].endswith(body["secret"])
    kiosk = Kiosk.objects.get(pk=body["id"])
    assert kiosk.digest != body["secret"] and body["secret"] not in str(Kiosk.objects.values())
    assert kiosk.user.role == "street_centre" and kiosk.user.region == tree.streets[1]
    assert not kiosk.user.has_usable_password()
    # Listed without its secret.
    listed = api(users.street).get("/api/screen/kiosks/").json()
    assert [k["id"] for k in listed] == [kiosk.pk] and "secret" not in listed[0]
    # Another street: refused as unknown, its code not repeated.
    refused = issue(api, users.street, tree.streets[2].code)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "region"
    assert tree.streets[2].code not in refused.content.decode()
    # A grid worker issues none; nor does a kiosk's own service user.
    assert issue(api, users.worker, tree.streets[1].code).status_code == 403
    assert issue(api, kiosk.user, tree.streets[1].code).status_code == 403
    assert issue(api, users.street, tree.streets[1].code, name="").status_code == 400


def test_a_kiosk_body_that_is_not_text_is_a_400_naming_the_field(tree, users, api):
    """Review H7: a number, an object or a list where text belongs was a 500."""
    for body, field in (
        ({"name": "大屏", "region": {"a": 1}}, "region"),
        ({"name": ["大屏"], "region": tree.streets[1].code}, "name"),
        ({"region": tree.streets[1].code}, "name"),
    ):
        answer = api(users.street).post("/api/screen/kiosks/", body, format="json")
        assert answer.status_code == 400, (body, answer.content[:200])
        assert answer.json()["errors"][0]["field"] == field
    refused = api(users.street).post("/api/screen/kiosks/", [1, 2], format="json")
    assert refused.status_code == 400
    # Who may not issue hears that, whatever the body.
    assert api(users.worker).post("/api/screen/kiosks/", [1], format="json").status_code == 403


def open_kiosk(client: Client, secret: str):
    """What the wall's browser does with /screen/kiosk/#<secret>: load the page (no secret
    sent), then post the fragment's secret with the CSRF token (screen/kiosk-open.js)."""
    page = client.get("/screen/kiosk/")
    assert page.status_code == 200 and page["Referrer-Policy"] == "same-origin"
    token = client.cookies["csrftoken"].value
    return client.post("/screen/kiosk/", {"secret": secret, "csrfmiddlewaretoken": token})


def kiosk_client(api, users, tree) -> tuple[Client, Kiosk, str]:
    body = issue(api, users.street, tree.streets[1].code).json()
    # The secret is in the fragment: never in a request line.
    assert body["link"].endswith(f"/screen/kiosk/#{body['secret']}")
    client = Client(enforce_csrf_checks=True)
    response = open_kiosk(client, body["secret"])
    assert response.status_code == 302 and response["Location"] == "/screen/"
    return client, Kiosk.objects.get(pk=body["id"]), body["secret"]


def test_a_kiosk_secret_never_logs_in_on_a_get_nor_without_the_csrf_token(tree, users, api):
    """Review M4: a GET with the secret (an old link; any page can make a browser send one)
    logs nobody in, and the POST needs the page's CSRF token."""
    secret = issue(api, users.street, tree.streets[1].code).json()["secret"]
    client = Client(enforce_csrf_checks=True)
    old = client.get(f"/screen/kiosk/{secret}")
    assert old.status_code == 302 and old["Location"] == f"/screen/kiosk/#{secret}"
    assert old["Referrer-Policy"] == "no-referrer"  # its URL holds the secret
    assert "_auth_user_id" not in client.session
    forged = Client(enforce_csrf_checks=True).post("/screen/kiosk/", {"secret": secret})
    assert forged.status_code == 403
    # The access log masks secrets of old links' paths.
    import logging

    from config.web_worker import MaskKioskSecrets

    record = logging.LogRecord(
        "uvicorn.access",
        20,
        "",
        0,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", f"/screen/kiosk/{secret}"),
        None,
    )
    MaskKioskSecrets().filter(record)
    assert secret not in record.getMessage() and "/screen/kiosk/…" in record.getMessage()


def test_a_kiosk_link_opens_a_long_read_only_session(scene, tree, users, api, settings):
    client, kiosk, _secret = kiosk_client(api, users, tree)
    assert client.session.get_expiry_age() >= 7 * 86400
    assert not client.session.get_expire_at_browser_close()
    page = client.get("/screen/")
    assert page.status_code == 200
    assert "screen/screen.js" in page.content.decode()
    body = client.get("/api/screen/figures/").json()
    assert body["scope"]["code"] == tree.streets[1].code
    assert body["incidents"]["incidents_today"] == 1
    assert client.get("/jsi18n/").status_code == 200
    kiosk.refresh_from_db()
    assert kiosk.last_seen_at is not None
    # Everything else is refused: other pages and APIs, any write, other map presets.
    for path in (
        "/",
        "/incidents/",
        "/api/households/",
        "/api/incidents/",
        "/admin/",
        "/api/screen/kiosks/",
        "/api/map/style.json?preset=street",
        "/api/map/tiles.json?layers=households",
        # One layer's tile (review H1): households' locations, any layer the wall hides.
        "/tiles/households/15/26800/13600.pbf",
        "/tiles/incidents/0/0/0.pbf",
    ):
        refused = client.get(path)
        assert refused.status_code == 403, path
        if path.startswith("/tiles/"):
            assert refused.json()["errors"][0]["code"] == "kiosk_not_allowed", path
    # The composite tile is the kiosk's (refused here by its missing signature, not by kind).
    composite = client.get("/tiles/0/0/0.pbf")
    assert composite.json()["errors"][0]["code"] != "kiosk_not_allowed"
    answer = client.post("/api/screen/figures/", {})
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "kiosk_read_only"
    assert (
        client.post(
            "/api/screen/kiosks/", {"name": "x", "region": tree.streets[1].code}
        ).status_code
        == 403
    )


def test_an_unknown_kiosk_link_is_not_found(db):
    assert open_kiosk(Client(), "gk_nothing-like-this").status_code == 404
    assert open_kiosk(Client(), "whatever").status_code == 404


def test_revoking_ends_the_kiosk_session_on_its_next_request(
    scene, tree, users, api, django_capture_on_commit_callbacks
):
    from maps.fastpath import revoked

    client, kiosk, secret = kiosk_client(api, users, tree)
    assert client.get("/api/screen/figures/").status_code == 200
    holder = f"{kiosk.user_id}.k{kiosk.pk}"
    assert not revoked(holder)
    # Another street's centre cannot see it, let alone revoke it.
    other = User.objects.create_user("street2", role="street_centre", region=tree.streets[2])
    assert api(other).delete(f"/api/screen/kiosks/{kiosk.pk}/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert api(users.street).delete(f"/api/screen/kiosks/{kiosk.pk}/").status_code == 204
    # The tile fast path, which reads no session, stops for the kiosk's tile URLs too.
    assert revoked(holder)
    answer = client.get("/api/screen/figures/")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "kiosk_revoked"
    # The session is gone: the next request is anonymous.
    assert client.get("/screen/").status_code == 302
    kiosk.refresh_from_db()
    assert kiosk.revoked_at is not None and not kiosk.user.is_active
    # The link opens nothing any more.
    assert open_kiosk(Client(), secret).status_code == 404
    assert api(users.street).get("/api/screen/kiosks/").json() == []


def test_kiosks_in_the_admin_show_the_link_once(tree, users, client):
    users.admin.is_staff = True
    users.admin.is_superuser = True
    users.admin.save()
    client.force_login(users.admin)
    response = client.post(
        "/admin/screen/kiosk/add/",
        {"name": "区指挥中心大屏", "region": tree.district.pk},
        follow=True,
    )
    assert response.status_code == 200
    kiosk = Kiosk.objects.get()
    assert "/screen/kiosk/#gk_" in response.content.decode()
    assert kiosk.created_by == users.admin and kiosk.user.role == "district_centre"
    assert dt.timedelta(0) <= timezone.now() - kiosk.created_at < dt.timedelta(minutes=1)
    kiosks.revoke(kiosk)
    assert Kiosk.objects.get().revoked_at is not None


def test_the_kiosk_page_is_for_the_centres(scene, tree, users, api, client):
    client.force_login(users.street)
    page = client.get("/screen/kiosks/")
    assert page.status_code == 200
    text = page.content.decode()
    assert tree.streets[1].code in text and tree.streets[2].code not in text
    client.force_login(users.worker)
    assert client.get("/screen/kiosks/").status_code == 403
    kiosk_session, _kiosk, _secret = kiosk_client(api, users, tree)
    assert kiosk_session.get("/screen/kiosks/").status_code == 403


def test_the_admin_refuses_before_saving_what_issue_would_refuse(tree, users, client):
    """Review L4: a staff user who may not issue kiosks was told "added successfully" for a
    kiosk that was never made."""
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user(
        "staff-community",
        password="pw",
        role="community_staff",
        region=tree.communities[(1, 1)],
        is_staff=True,
    )
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_kiosk"))
    client.force_login(staff)
    answer = client.post(
        "/admin/screen/kiosk/add/", {"name": "社区大屏", "region": tree.communities[(1, 1)].pk}
    )
    assert answer.status_code == 403
    assert not Kiosk.objects.exists()
    # The form's check, for what the form's own fields let through.
    from screen.admin import KioskAdmin

    users.street.is_staff = True
    users.street.save()
    users.street.user_permissions.add(*Permission.objects.filter(codename__endswith="_kiosk"))
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().post("/admin/screen/kiosk/add/")
    request.user = users.street
    form_class = KioskAdmin(Kiosk, site).get_form(request)
    form = form_class(data={"name": "街道大屏", "region": tree.streets[1].pk})
    assert form.is_valid(), form.errors
    Kiosk.objects.create(
        name="x", region=tree.streets[1], user=users.street, digest="d" * 64, prefix="gk_x"
    )
    # Its own kiosk's service user now (may_issue is False): the form says so, nothing saved.
    form = form_class(data={"name": "街道大屏", "region": tree.streets[1].pk})
    assert not form.is_valid()
    assert Kiosk.objects.count() == 1
