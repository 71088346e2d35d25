"""The incidents API (#4): report, steps with versions (409), refusals with their codes,
photos, duplicates, metrics, tasks and visits, notifications, query counts."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from django.db import connection
from PIL import Image

from incidents.models import Incident, IncidentEvent, IncidentPhoto, Task, Visit
from incidents.services.transitions import StaleVersion, Step, take_step
from notifications.models import Notification
from tests.conftest import centre_of


def geojson(point) -> dict:
    return {"type": "Point", "coordinates": [point.x, point.y]}


def body(point, **fields) -> dict:
    return {
        "title": "占道经营",
        "category": "T0101",
        "source": "patrol",
        "location": geojson(point),
    } | fields


def image_file(fmt="PNG", name="photo.png", size=(40, 30)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "red").save(data, fmt)
    data.seek(0)
    data.name = name
    return data


def test_report_answers_201_then_200_for_a_resend(tree, users, catalogue, api):
    client = api(users.worker)
    payload = body(centre_of(tree.grids[(1, 1, 1)]), client_key=str(uuid.uuid4()))
    first = client.post("/api/incidents/", payload, format="json")
    assert first.status_code == 201, first.json()
    again = client.post("/api/incidents/", payload, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    detail = first.json()
    assert (detail["status"], detail["grid"], detail["version"]) == (
        "reported",
        tree.grids[(1, 1, 1)].code,
        1,
    )
    assert detail["allowed_actions"] == ["register", "dismiss", "escalate", "merge"]
    assert [e["action"] for e in detail["events"]] == ["report"]


@pytest.mark.parametrize(
    "change,code,field",
    [
        ({"category": "nope"}, "unknown_category", "category"),
        (
            {"location": {"type": "Point", "coordinates": [120.0, 31.0]}},
            "outside_district",
            "location",
        ),
        (
            {"location": {"type": "LineString", "coordinates": [[106, 29.3], [106, 29.31]]}},
            "not_a_point",
            "location",
        ),
        ({"title": ""}, "blank", "title"),
    ],
)
def test_bad_reports_are_400_with_the_field(tree, users, catalogue, api, change, code, field):
    answer = api(users.admin).post(
        "/api/incidents/", body(centre_of(tree.grids[(1, 1, 1)])) | change, format="json"
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert (error["code"], error["field"]) == (code, field)
    assert not Incident.objects.exists()


def test_photos_must_be_images_within_the_limit(tree, users, catalogue, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = api(users.worker)
    point = centre_of(tree.grids[(1, 1, 1)])
    fields = {k: v for k, v in body(point).items() if k != "location"}
    fields["location"] = f'{{"type": "Point", "coordinates": [{point.x}, {point.y}]}}'
    fake = io.BytesIO(b"MZ\x90\x00 not a picture")
    fake.name = "photo.jpg"
    refused = client.post(
        "/api/incidents/", fields | {"photos": [image_file(), fake]}, format="multipart"
    )
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert (error["code"], error["row"]) == ("not_an_image", 2)
    assert not Incident.objects.exists()
    settings.GRIDLINE_PHOTO_MAX_MB = 0.001
    too_big = client.post(
        "/api/incidents/", fields | {"photos": [image_file(size=(800, 800))]}, format="multipart"
    )
    assert too_big.json()["errors"][0]["code"] == "photo_too_large"
    settings.GRIDLINE_PHOTO_MAX_MB = 10
    made = client.post(
        "/api/incidents/",
        fields | {"photos": [image_file(), image_file("JPEG", "b.jpg")]},
        format="multipart",
    )
    assert made.status_code == 201, made.json()
    photos = made.json()["photos"]
    assert [(p["width"], p["height"]) for p in photos] == [(40, 30), (40, 30)]
    assert {p.image.name.rsplit(".", 1)[1] for p in IncidentPhoto.objects.all()} == {"png", "jpg"}
    added = client.post(
        f"/api/incidents/{made.json()['id']}/photos/",
        {"photos": [image_file()]},
        format="multipart",
    )
    assert added.status_code == 201 and IncidentPhoto.objects.count() == 3
    # A step carries its own photos (e.g. after handling), on its event in the timeline.
    stepped = client.post(
        f"/api/incidents/{made.json()['id']}/steps/",
        {"action": "register", "version": 1, "comment": "已核实", "photos": [image_file()]},
        format="multipart",
    )
    assert stepped.status_code == 200, stepped.json()
    register = stepped.json()["events"][-1]
    assert (register["action"], len(register["photos"])) == ("register", 1)


def test_a_stale_step_is_409_with_the_current_state(users, incident, api):
    client = api(users.worker)
    url = f"/api/incidents/{incident.pk}/steps/"
    assert client.post(url, {"action": "register", "version": 1}, format="json").status_code == 200
    stale = client.post(url, {"action": "dispatch", "version": 1}, format="json")
    assert stale.status_code == 409
    answer = stale.json()
    assert answer["errors"][0]["code"] == "stale_version"
    assert (answer["incident"]["version"], answer["incident"]["status"]) == (2, "registered")
    assert IncidentEvent.objects.filter(incident=incident).count() == 2


@pytest.mark.parametrize(
    "who,payload,status,code",
    [
        ("community", {"action": "register"}, 403, "not_permitted"),
        ("worker", {"action": "close"}, 409, "not_allowed_in_status"),
        ("worker", {"action": "fly"}, 400, "invalid_choice"),
        ("worker", {"action": "dismiss"}, 400, "reason_required"),
        ("other_worker", {"action": "register"}, 404, "not_found"),
        ("department", {"action": "register"}, 404, "not_found"),
    ],
)
def test_refused_steps_say_why(users, incident, api, who, payload, status, code):
    answer = api(getattr(users, who)).post(
        f"/api/incidents/{incident.pk}/steps/", payload | {"version": 1}, format="json"
    )
    assert answer.status_code == status
    assert answer.json()["errors"][0]["code"] == code
    assert Incident.objects.get(pk=incident.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_one_step_one_wins(tree, users, catalogue, incident):
    barrier = threading.Barrier(2)
    outcomes = []

    def register():
        try:
            barrier.wait()
            take_step(incident.pk, Step(action="register", version=1), user=users.worker)
            outcomes.append("done")
        except StaleVersion:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done", "stale"]
    assert IncidentEvent.objects.filter(incident=incident, action="register").count() == 1


def test_possible_duplicates_are_shown_before_and_after_reporting(tree, users, incident, api):
    client = api(users.worker)
    point = incident.location
    near = client.get(
        "/api/incidents/nearby/", {"category": "T0101", "lon": point.x, "lat": point.y + 0.0002}
    )
    assert [(d["incident"]["id"], round(d["metres"])) for d in near.json()] == [(incident.pk, 22)]
    far = client.get(
        "/api/incidents/nearby/", {"category": "T0101", "lon": point.x, "lat": point.y + 0.001}
    )
    assert far.json() == []
    made = client.post("/api/incidents/", body(point), format="json").json()
    assert [d["incident"]["id"] for d in made["possible_duplicates"]] == [incident.pk]
    merged = client.post(
        f"/api/incidents/{made['id']}/steps/",
        {"action": "merge", "version": 1, "target": incident.pk},
        format="json",
    )
    assert merged.json()["merged_into"] == incident.pk


def test_queues_per_role(users, incident, api, django_assert_max_num_queries):
    take_step(incident.pk, Step(action="escalate", version=1), user=users.worker)
    take_step(
        incident.pk,
        Step(action="dispatch", version=2, department="civil-affairs"),
        user=users.community,
    )

    def ids(user, **params):
        answer = api(user).get("/api/incidents/", params)
        assert answer.status_code == 200
        return [row["id"] for row in answer.json()["results"]]

    assert ids(users.department, queue="mine") == [incident.pk]
    assert ids(users.community, queue="mine") == []
    assert ids(users.worker, queue="reported") == [incident.pk]
    assert ids(users.street, queue="open", status="dispatched") == [incident.pk]
    assert ids(users.other_worker) == []
    with django_assert_max_num_queries(2):  # count + page: no query per row
        ids(users.street, queue="open")


def test_metrics_per_grid_and_department(users, incident, api):
    for action, user, extra in [
        ("register", users.worker, {}),
        ("dispatch", users.worker, {"department": "civil-affairs"}),
        ("acknowledge", users.department, {}),
        ("feed_back", users.department, {}),
        ("rework", users.worker, {"comment": "没修好"}),
        ("feed_back", users.department, {}),
        ("verify", users.worker, {}),
        ("close", users.worker, {}),
        ("assess", users.worker, {"score": 2}),
    ]:
        current = Incident.objects.get(pk=incident.pk)
        take_step(incident.pk, Step(action=action, version=current.version, **extra), user=user)
    rows = api(users.street).get("/api/incidents/metrics/", {"by": "grid"}).json()
    (row,) = rows
    assert (row["cases"], row["closed"], row["closure_rate"], row["rework_rate"]) == (
        1,
        1,
        1.0,
        1.0,
    )
    assert row["on_time_rate"] == 1.0 and set(row["mean_hours"]) >= {"register", "close"}
    (dept,) = api(users.admin).get("/api/incidents/metrics/", {"by": "department"}).json()
    assert (dept["code"], dept["department_score"], dept["satisfaction"]) == (
        "civil-affairs",
        2.0,
        None,
    )
    bad = api(users.admin).get("/api/incidents/metrics/", {"by": "planet"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "by"


def test_metrics_for_a_scope_that_holds_nothing(users, incident, api, make_user):
    # A service provider (#20) sees no incidents: its scope compiles to no SQL at all, which
    # the per-step hours once turned into a 500.
    provider = make_user("provider", "provider")
    for by in ("grid", "department"):
        answer = api(provider).get("/api/incidents/metrics/", {"by": by})
        assert answer.status_code == 200 and answer.json() == []


def test_tasks_and_visits(tree, users, homes, api, settings):
    settings.GRIDLINE_VISIT_DISTANCE_M = 200
    grid = tree.grids[(1, 1, 1)]
    made = api(users.community).post(
        "/api/tasks/",
        {"title": "本月走访", "grid": grid.code, "due_on": "2030-01-31", "assignee": "worker"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["targets"], made.json()["visited"]) == (1, 0)
    home = homes[(1, 1, 1)]
    key = str(uuid.uuid4())
    far = home.location.clone()
    far.y += 0.005  # about 550 m north
    visit = api(users.worker).post(
        "/api/visits/",
        {"household": home.pk, "location": geojson(far), "client_key": key},
        format="json",
    )
    assert visit.status_code == 201
    assert visit.json()["flagged"] and 500 < visit.json()["distance_m"] < 600
    again = api(users.worker).post(
        "/api/visits/",
        {"household": home.pk, "location": geojson(far), "client_key": key},
        format="json",
    )
    assert again.status_code == 200 and Visit.objects.count() == 1
    assert Task.objects.get().done_at is not None
    figures = api(users.community).get("/api/tasks/figures/", {"by": "worker"}).json()
    assert [(f["label"], f["done"], f["flagged_visits"]) for f in figures] == [("worker", 1, 1)]
    other = api(users.worker).post(
        "/api/visits/",
        {"household": homes[(2, 2, 2)].pk, "location": geojson(far)},
        format="json",
    )
    assert other.status_code == 400 and other.json()["errors"][0]["code"] == "unknown_household"
    refused = api(users.department).post(
        "/api/tasks/", {"title": "x", "grid": grid.code, "due_on": "2030-01-31"}, format="json"
    )
    assert refused.status_code == 400


def test_notifications_are_the_users_own(users, incident, api):
    take_step(incident.pk, Step(action="escalate", version=1), user=users.worker)
    inbox = api(users.community).get("/api/notifications/", {"unread": 1}).json()
    assert [n["kind"] for n in inbox["results"]] == ["incident.escalated"]
    assert api(users.street).get("/api/notifications/").json()["results"] == []
    marked = api(users.community).post("/api/notifications/read/", {}, format="json").json()
    assert marked == {"marked": 1}
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_queue_rows_read_like_the_incident(users, incident, api, rf):
    from incidents.api.serializers import IncidentSerializer

    take_step(incident.pk, Step(action="escalate", version=1), user=users.worker)
    take_step(
        incident.pk,
        Step(action="dispatch", version=2, department="civil-affairs"),
        user=users.community,
    )
    (row,) = api(users.admin).get("/api/incidents/").json()["results"]
    assert row == IncidentSerializer(Incident.objects.get(pk=incident.pk)).data
