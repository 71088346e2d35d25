"""Decision 4 held at every refusal: out of scope is "not found", and no answer names a code
or a name of another jurisdiction (issue #15, section 1).

The foreign side is street 001 (and, for the grid worker, the neighbouring grid of their own
community); the callers are street 002's command centre and the grid worker of grid 2-2-2.
Every request below points at a foreign object by id or code; each answer is a refusal (or an
empty list), never a 500, and its body must not contain any foreign code or name.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from grids.models import Department, Level, Role
from grids.services import boundaries
from incidents.models import Incident, Visit
from incidents.services import tasks
from notifications.models import Notification
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import VALID_FROM, cell, centre_of

STREET_EDGE_X = 105.95  # between street 001 (west) and street 002 (east)
GRID_EDGE_X = 105.975  # between grids 2-x-1 and 2-x-2 of street 002


def text(response) -> str:
    """The body as a person would read it (JSON unescaped: JsonResponse escapes Chinese)."""
    content = response.content.decode()
    try:
        return json.dumps(json.loads(content), ensure_ascii=False)
    except ValueError:
        return content


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def world(tree, users, catalogue, incident, make_user, add_household):
    """Objects of street 001 and of grid 2-2-1, and another district's department."""
    g111 = tree.grids[(1, 1, 1)]
    make_user("zz-foreign-worker", Role.GRID_WORKER, grid=g111)
    home = add_household(centre_of(g111), address="外街测试路9号")
    visit, _ = tasks.record_visit(home.pk, centre_of(g111), user=users.worker, note="外街走访备注")
    camera = create_sensor(
        SensorSpec(
            code="ZZCAM1",
            type="camera",
            location=centre_of(g111),
            name="外街摄像头",
            properties={"bearing": 90, "fov": 60, "range": 200},
        )
    )
    other_district = boundaries.create_region(
        level=Level.DISTRICT,
        code="500119",
        name="江津区",
        geom=cell(106.00, 29.30, 106.10, 29.40),
        valid_from=VALID_FROM,
    )
    Department.objects.create(code="zz-forest", name="外区林业局", district=other_district)
    notice = Notification.objects.create(user=users.worker, kind="test", title="外街通知")
    # The neighbouring grid of the grid worker's own community (grid 2-2-1).
    g221 = tree.grids[(2, 2, 1)]
    neighbour_home = add_household(centre_of(g221), address="邻格测试路7号")
    neighbour_worker = make_user("zz-neighbour-worker", Role.GRID_WORKER, grid=g221)
    neighbour_incident = Incident.objects.create(
        title="邻格积水",
        category=catalogue["category"],
        source="patrol",
        location=centre_of(g221),
        grid=g221,
        community=tree.communities[(2, 2)],
        street=tree.streets[2],
        district=tree.district,
        level="grid",
        reporter=neighbour_worker,
    )
    street1 = [
        tree.streets[1],
        *(c for (s, _c), c in tree.communities.items() if s == 1),
        *(g for key, g in tree.grids.items() if key[0] == 1),
    ]
    street_foreign = {
        *(o.code for o in street1),
        *(o.name for o in street1),
        "外街测试路9号",
        "外街走访备注",
        incident.title,
        "ZZCAM1",
        "外街摄像头",
        "zz-foreign-worker",
        "zz-forest",
        "外区林业局",
        "江津区",
        "500119",
        "外街通知",
    }
    return {
        "home": home,
        "visit": visit,
        "camera": camera,
        "notice": notice,
        "incident": incident,
        "neighbour_home": neighbour_home,
        "neighbour_incident": neighbour_incident,
        "street2": make_user("street2", Role.STREET_CENTRE, region=tree.streets[2]),
        "street_foreign": street_foreign,
        "grid_foreign": street_foreign
        | {g221.code, g221.name, "邻格测试路7号", "邻格积水", "zz-neighbour-worker"},
    }


@pytest.fixture
def japi(api):
    """API clients that send JSON unless told otherwise."""

    def client(user):
        made = api(user)
        made.default_format = "json"
        return made

    return client


def assert_clean(answers: dict, foreign: set[str]) -> None:
    """Every answer has its expected status and names nothing foreign (all are checked
    before failing, so one run lists every leak)."""
    wrong = []
    for label, (response, expected) in answers.items():
        body = text(response)
        if response.status_code != expected:
            wrong.append((label, response.status_code, body[:300]))
        if leaked := sorted(word for word in foreign if word in body):
            wrong.append((label, leaked, body[:300]))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_street_refused_names_nothing_of_another_street(tree, users, world, japi):
    caller = world["street2"]
    client = japi(caller)
    g111, g112, g211 = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)], tree.grids[(2, 1, 1)]
    own = centre_of(g211)
    foreign_point = centre_of(g111)
    near_edge = point(STREET_EDGE_X + 0.0001, 29.32)  # in 2-1-1, ~10 m from 1-1-2
    incident, camera, home = world["incident"], world["camera"], world["home"]
    report = {"title": "路灯不亮", "category": "T0101", "source": "patrol"}
    draft = client.post(
        "/api/boundaries/changesets/",
        {"region": tree.communities[(2, 1)].code, "title": "调整网格"},
        format="json",
    )
    assert draft.status_code == 201, draft.content
    staff = Client()
    caller.is_staff = True
    caller.save()
    staff.force_login(caller)
    answers = {
        "near edge": (client.post("/api/incidents/", {**report, "location": near_edge}), 400),
        "near edge, foreign grid chosen": (
            client.post("/api/incidents/", {**report, "location": near_edge, "grid": g112.code}),
            400,
        ),
        "report in another street": (
            client.post(
                "/api/incidents/", {**report, "location": point(foreign_point.x, foreign_point.y)}
            ),
            400,
        ),
        "another street's client key": (
            client.post(
                "/api/incidents/",
                {**report, "location": point(own.x, own.y), "client_key": str(incident.client_key)},
            ),
            400,
        ),
        "incident": (client.get(f"/api/incidents/{incident.pk}/"), 404),
        "step": (
            client.post(
                f"/api/incidents/{incident.pk}/steps/", {"action": "register", "version": 1}
            ),
            404,
        ),
        "duplicates": (client.get(f"/api/incidents/{incident.pk}/duplicates/"), 404),
        "nearby": (
            client.get(
                f"/api/incidents/nearby/?category=T0101&lon={foreign_point.x}&lat={foreign_point.y}"
            ),
            200,
        ),
        "task in another street's grid": (
            client.post(
                "/api/tasks/", {"title": "走访", "grid": g111.code, "due_on": "2030-01-31"}
            ),
            400,
        ),
        "task for another street's worker": (
            client.post(
                "/api/tasks/",
                {
                    "title": "走访",
                    "grid": g211.code,
                    "due_on": "2030-01-31",
                    "assignee": "zz-foreign-worker",
                },
            ),
            400,
        ),
        "visit of another street's household": (
            client.post(
                "/api/visits/",
                {"household": home.pk, "location": point(foreign_point.x, foreign_point.y)},
            ),
            400,
        ),
        "visits": (client.get("/api/visits/"), 200),
        "household": (client.get(f"/api/households/{home.pk}/"), 404),
        "household in another street": (
            client.post(
                "/api/households/",
                {"address": "越界户", "lon": foreign_point.x, "lat": foreign_point.y},
            ),
            400,
        ),
        "residents of another street's grid": (
            client.get(f"/api/residents/?grid={g111.code}"),
            200,
        ),
        "grid": (client.get(f"/api/grids/{g111.pk}/"), 404),
        "region": (client.get(f"/api/regions/{tree.streets[1].pk}/"), 404),
        "broadcast to another street's camera": (
            client.post("/api/sensors/broadcasts/", {"message": "请撤离", "poles": [camera.pk]}),
            400,
        ),
        "broadcast about another street's incident": (
            client.post(
                "/api/sensors/broadcasts/",
                {"message": "请撤离", "poles": [camera.pk], "incident": incident.pk},
            ),
            400,
        ),
        "sensors of another street": (
            client.get(f"/api/sensors/sensors/?region={tree.streets[1].pk}"),
            400,
        ),
        "sensor": (client.get(f"/api/sensors/sensors/{camera.pk}/"), 404),
        "readings": (client.get(f"/api/sensors/readings/?sensor={camera.pk}"), 404),
        "sensor under a taken code": (
            client.post(
                "/api/sensors/sensors/",
                {
                    "code": "ZZCAM1",
                    "type": "camera",
                    "lon": own.x,
                    "lat": own.y,
                    "properties": {"bearing": 90, "fov": 60, "range": 200},
                },
            ),
            400,
        ),
        "sensor of another district's department": (
            client.post(
                "/api/sensors/sensors/",
                {
                    "code": "OWNCAM9",
                    "type": "camera",
                    "lon": own.x,
                    "lat": own.y,
                    "department": "zz-forest",
                    "properties": {"bearing": 90, "fov": 60, "range": 200},
                },
            ),
            400,
        ),
        "ledger of another street's grid": (
            client.get(f"/api/reports/ledger/?unit={g111.code}&period=2026-10"),
            404,
        ),
        "completeness of another street": (
            client.get(f"/api/reports/completeness/?region={tree.streets[1].code}&period=2026-10"),
            404,
        ),
        "form of another district's department": (
            client.post(
                "/api/reports/form-imports/",
                {
                    "department": "zz-forest",
                    "file": SimpleUploadedFile("表.xlsx", b"PK\x03\x04 not really"),
                },
                format="multipart",
            ),
            400,
        ),
        "change set of another street's community": (
            client.post(
                "/api/boundaries/changesets/",
                {"region": tree.communities[(1, 1)].code, "title": "越界调整"},
                format="json",
            ),
            400,
        ),
        "history of another street's grid": (
            client.get(f"/api/boundaries/grids/{g111.code}/history/"),
            404,
        ),
        "edit of another street's grid": (
            client.post(
                f"/api/boundaries/changesets/{draft.json()['id']}/operations/",
                {
                    "op": "rename",
                    "code": g111.code,
                    "name": "改名",
                    "expected_version": draft.json()["version"],
                },
                format="json",
            ),
            400,
        ),
        "another user's notification": (
            client.post("/api/notifications/read/", {"ids": [world["notice"].pk]}, format="json"),
            200,
        ),
        "map search": (staff.get("/api/map/search/?q=网格1"), 200),
        "admin: another street's visit": (
            staff.get(f"/admin/incidents/visit/{world['visit'].pk}/change/", follow=True),
            200,
        ),
    }
    assert_clean(answers, world["street_foreign"])
    # The refusals say what they are, the same as for something that does not exist.
    codes = {label: text(r) for label, (r, _s) in answers.items()}
    assert "near_grid_edge" in codes["near edge"] and g211.code in codes["near edge"]
    assert "grid_not_near" in codes["near edge, foreign grid chosen"]
    assert "outside_jurisdiction" in codes["report in another street"]
    assert "key_conflict" in codes["another street's client key"]
    assert "unknown_pole" in codes["broadcast to another street's camera"]
    assert "unknown_incident" in codes["broadcast about another street's incident"]
    assert "unknown_household" in codes["visit of another street's household"]
    assert "unknown_grid" in codes["edit of another street's grid"]
    assert '"marked": 0' in codes["another user's notification"]
    assert json.loads(codes["visits"])["results"] == []
    assert not Notification.objects.get(pk=world["notice"].pk).read_at


def test_a_grid_worker_refused_names_nothing_of_another_grid(tree, users, world, japi):
    client = japi(users.other_worker)  # grid 2-2-2
    g221, g222 = tree.grids[(2, 2, 1)], tree.grids[(2, 2, 2)]
    own = centre_of(g222)
    near_edge = point(GRID_EDGE_X + 0.0001, 29.37)  # in 2-2-2, ~10 m from 2-2-1
    neighbour = world["neighbour_incident"]
    report = {"title": "井盖松动", "category": "T0101", "source": "patrol"}
    mine = client.post("/api/incidents/", {**report, "location": point(own.x, own.y)})
    assert mine.status_code == 201, mine.content
    mine = mine.json()
    registered = client.post(
        f"/api/incidents/{mine['id']}/steps/", {"action": "register", "version": 1}
    )
    assert registered.status_code == 200, registered.content
    answers = {
        "near edge": (client.post("/api/incidents/", {**report, "location": near_edge}), 400),
        "near edge, neighbour chosen": (
            client.post("/api/incidents/", {**report, "location": near_edge, "grid": g221.code}),
            400,
        ),
        "neighbour's incident": (client.get(f"/api/incidents/{neighbour.pk}/"), 404),
        "dispatch to another district's department": (
            client.post(
                f"/api/incidents/{mine['id']}/steps/",
                {"action": "dispatch", "version": 2, "department": "zz-forest"},
            ),
            400,
        ),
        "merge into the neighbour's incident": (
            client.post(
                f"/api/incidents/{mine['id']}/steps/",
                {"action": "merge", "version": 2, "target": neighbour.pk},
            ),
            400,
        ),
        "task in the neighbour's grid": (
            client.post(
                "/api/tasks/", {"title": "走访", "grid": g221.code, "due_on": "2030-01-31"}
            ),
            400,
        ),
        "task for the neighbour": (
            client.post(
                "/api/tasks/",
                {
                    "title": "走访",
                    "grid": g222.code,
                    "due_on": "2030-01-31",
                    "assignee": "zz-neighbour-worker",
                },
            ),
            400,
        ),
        "visit of the neighbour's household": (
            client.post(
                "/api/visits/",
                {"household": world["neighbour_home"].pk, "location": point(own.x, own.y)},
            ),
            400,
        ),
        "visits": (client.get("/api/visits/"), 200),
        "ledger of the neighbour's grid": (
            client.get(f"/api/reports/ledger/?unit={g221.code}&period=2026-10"),
            404,
        ),
        "change set of another street's community": (
            client.post(
                "/api/boundaries/changesets/",
                {"region": tree.communities[(1, 1)].code, "title": "越界调整"},
                format="json",
            ),
            400,
        ),
    }
    assert_clean(answers, world["grid_foreign"])
    near = text(answers["near edge"][0])
    assert "near_grid_edge" in near and g222.code in near
    assert "unknown_department" in text(answers["dispatch to another district's department"][0])
    assert "unknown_target" in text(answers["merge into the neighbour's incident"][0])


# --- visits follow the household rule ------------------------------------------------------


def test_a_department_sees_no_visits(users, world, japi):
    assert Visit.objects.visible_to(users.department).count() == 0
    response = japi(users.department).get("/api/visits/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    # The roles that see the household see its visit.
    for user in (users.worker, users.community, users.street, users.district, users.admin):
        assert Visit.objects.visible_to(user).filter(pk=world["visit"].pk).exists(), user


def test_the_admin_visit_page_shows_no_address_to_a_department(users, world):
    department = users.department
    department.is_staff = True
    department.save()
    client = Client()
    client.force_login(department)
    listing = client.get("/admin/incidents/visit/")
    page = client.get(f"/admin/incidents/visit/{world['visit'].pk}/change/", follow=True)
    for response in (listing, page):
        assert response.status_code == 200
        assert "外街测试路9号" not in response.content.decode()


def test_a_district_centre_sees_visits_to_households_in_no_grid(users, add_household):
    # A household west of every grid, in the district but in no grid: the household rule
    # gives it to the district centre, and so its visits.
    outside = add_household(Point(105.9001, 29.3001, srid=4326), address="无网格户")
    outside.grid = None
    outside.save(update_fields=["grid"])
    visit = Visit.objects.create(
        household=outside,
        worker=users.worker,
        location=outside.location,
        distance_m=0,
    )
    assert Visit.objects.visible_to(users.district).filter(pk=visit.pk).exists()
    assert not Visit.objects.visible_to(users.street).filter(pk=visit.pk).exists()


# --- a department reports (decision: it may, and reads its own reports) ---------------------


def test_a_department_reports_and_reads_its_report(tree, users, catalogue, japi):
    client = japi(users.department)
    key = str(uuid.uuid4())
    here = centre_of(tree.grids[(2, 1, 2)])
    body = {
        "title": "占道经营",
        "category": "T0101",
        "source": "inspection",
        "location": point(here.x, here.y),
        "client_key": key,
    }
    first = client.post("/api/incidents/", body)
    assert first.status_code == 201, first.content
    incident = first.json()
    assert incident["title"] == "占道经营"
    again = client.post("/api/incidents/", body)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == incident["id"]
    assert Incident.objects.count() == 1
    assert client.get(f"/api/incidents/{incident['id']}/").status_code == 200
    queue = client.get("/api/incidents/?queue=reported").json()["results"]
    assert [row["id"] for row in queue] == [incident["id"]]
    # A colleague of the same department reads it too; another department does not.
    colleague = users.department.__class__.objects.create_user(
        username="civil-2", password="pw", role=Role.DEPARTMENT, department=catalogue["civil"]
    )
    assert japi(colleague).get(f"/api/incidents/{incident['id']}/").status_code == 200
    transport = users.department.__class__.objects.create_user(
        username="transport-1",
        password="pw",
        role=Role.DEPARTMENT,
        department=catalogue["transport"],
    )
    assert japi(transport).get(f"/api/incidents/{incident['id']}/").status_code == 404
    resent = japi(transport).post("/api/incidents/", body)
    assert resent.status_code == 400
    assert resent.json()["errors"][0]["code"] == "key_conflict"


def test_a_department_reports_in_its_district_only(tree, users, catalogue, japi, make_user):
    """A point in no grid is held by the district centre; the district's department may
    report there (its jurisdiction is the district), another district's may not."""
    jiangjin = boundaries.create_region(
        level=Level.DISTRICT,
        code="500119",
        name="江津区",
        geom=cell(106.00, 29.30, 106.10, 29.40),
        valid_from=VALID_FROM,
    )
    forestry = Department.objects.create(code="jj-forest", name="林业局", district=jiangjin)
    ranger = make_user("ranger", Role.DEPARTMENT, department=forestry)
    body = {
        "title": "林下堆放杂物",
        "category": "T0101",
        "source": "inspection",
        "location": point(106.05, 29.35),  # in 500119, which has no grids
    }
    refused = japi(users.department).post("/api/incidents/", body)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "outside_jurisdiction"
    assert not Incident.objects.exists()
    reported = japi(ranger).post("/api/incidents/", body)
    assert reported.status_code == 201, reported.content
    assert reported.json()["level"] == "district"
    assert japi(ranger).get(f"/api/incidents/{reported.json()['id']}/").status_code == 200


def test_a_template_for_another_districts_department_is_not_found(users, world, japi):
    """The district centre defines templates for its own district's departments only; one
    of another district is answered like a code that does not exist."""
    response = japi(users.district).post(
        "/api/reports/templates/",
        {
            "code": "zz-template",
            "title": "外区报表",
            "owner": "zz-forest",
            "row_level": "grid",
            "period_type": "month",
            "columns": [],
        },
    )
    assert response.status_code == 400
    fields = {error.get("field") for error in response.json()["errors"]}
    assert "owner" in fields
    assert not [word for word in ("zz-forest", "外区林业局", "江津区") if word in text(response)]
