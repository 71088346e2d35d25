"""The incident pages (#4): queues per role, one incident, the report form, notifications,
and the incidents layer of the map."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import Category, Incident, WhistleClass
from incidents.services import Report, report_incident
from incidents.services.transitions import Step, take_step
from notifications.models import Notification
from tests.conftest import centre_of
from tests.test_tiles import decode, features, get, tile_of


@pytest.fixture
def catalogue(users):
    WhistleClass.objects.create(
        code="urgent", name="紧急类", acknowledge_hours=0.5, report_back_hours=24
    )
    return {
        "road": Category.objects.create(code="0101", name="井盖缺失"),
        "noise": Category.objects.create(code="0201", name="噪声扰民"),
    }


def report(tree, user, key, title, category="0101", **kwargs):
    incident, _ = report_incident(
        Report(
            title=title,
            category=category,
            source="patrol",
            location=centre_of(tree.grids[key]),
            **kwargs,
        ),
        user=user,
    )
    return incident


def step(incident, user, action, **kwargs):
    current = Incident.objects.get(pk=incident.pk)
    return take_step(incident.pk, Step(action=action, version=current.version, **kwargs), user=user)


@pytest.fixture
def incidents(tree, users, catalogue):
    """Mine: in the worker's grid (1,1,1); theirs: in another street's grid (2,2,2)."""
    mine = report(tree, users.worker, (1, 1, 1), "井盖丢了")
    noisy = report(tree, users.worker, (1, 1, 1), "夜间施工", category="0201", priority="urgent")
    theirs = report(tree, users.other_worker, (2, 2, 2), "别处的事")
    return {"mine": mine, "noisy": noisy, "theirs": theirs}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def listed(response) -> set[str]:
    return {i.title for i in response.context["page"]}


@pytest.mark.parametrize(
    "path", ["/incidents/", "/incidents/new/", "/incidents/1/", "/notifications/"]
)
def test_anonymous_users_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "who,expected",
    [
        ("admin", {"井盖丢了", "夜间施工", "别处的事"}),
        ("district", {"井盖丢了", "夜间施工", "别处的事"}),
        ("street", {"井盖丢了", "夜间施工"}),
        ("community", {"井盖丢了", "夜间施工"}),
        ("worker", {"井盖丢了", "夜间施工"}),
        ("other_worker", {"别处的事"}),
        ("department", set()),
    ],
)
def test_all_open_shows_only_what_the_role_may_see(users, incidents, who, expected):
    response = client_for(getattr(users, who)).get("/incidents/?queue=open")
    assert response.status_code == 200
    assert listed(response) == expected
    body = response.content.decode()
    for title in {"井盖丢了", "夜间施工", "别处的事"} - expected:
        assert title not in body


def test_the_queue_tabs_filter(users, incidents, catalogue):
    worker, community = client_for(users.worker), client_for(users.community)
    assert listed(worker.get("/incidents/")) == {"井盖丢了", "夜间施工"}  # waiting on me
    assert listed(community.get("/incidents/")) == set()
    step(incidents["mine"], users.worker, "escalate")
    assert listed(worker.get("/incidents/?queue=mine")) == {"夜间施工"}
    assert listed(community.get("/incidents/?queue=mine")) == {"井盖丢了"}
    assert listed(worker.get("/incidents/?queue=reported")) == {"井盖丢了", "夜间施工"}
    assert listed(community.get("/incidents/?queue=reported")) == set()
    Incident.objects.filter(pk=incidents["noisy"].pk).update(
        step_overdue=True, due_at=timezone.now() - dt.timedelta(hours=1)
    )
    overdue = worker.get("/incidents/?queue=overdue")
    assert listed(overdue) == {"夜间施工"}
    assert 'class="overdue"' in overdue.content.decode()
    # Filters narrow a tab.
    assert listed(worker.get("/incidents/?queue=open&category=0201")) == {"夜间施工"}
    assert listed(worker.get("/incidents/?queue=open&priority=urgent")) == {"夜间施工"}
    assert listed(worker.get("/incidents/?queue=open&status=registered")) == {"井盖丢了"}
    # Whistled: a tab for the departments and the centres, not for a grid worker.
    tabs = [key for key, _ in worker.get("/incidents/").context["tabs"]]
    assert "whistled" not in tabs
    assert listed(worker.get("/incidents/?queue=whistled")) == {"夜间施工"}  # falls back to mine
    step(incidents["mine"], users.community, "escalate")
    step(
        incidents["mine"],
        users.street,
        "whistle",
        department="civil-affairs",
        whistle_class="urgent",
    )
    assert listed(client_for(users.street).get("/incidents/?queue=whistled")) == {"井盖丢了"}
    department = client_for(users.department)
    assert listed(department.get("/incidents/?queue=whistled")) == {"井盖丢了"}
    assert listed(department.get("/incidents/")) == {"井盖丢了"}


def test_the_queue_page_costs_the_same_for_many_incidents(
    tree, users, incidents, django_assert_max_num_queries
):
    for n in range(30):
        report(tree, users.worker, (1, 1, 1), f"第{n}件")
    client = client_for(users.worker)
    client.get("/incidents/")  # warm the session and the categories
    # session, user, unread count, categories, count, page: none per row.
    with django_assert_max_num_queries(7):
        response = client.get("/incidents/?queue=open&page=2")
    assert response.status_code == 200
    assert len(response.context["page"]) == 32 - 25


def test_the_detail_page_shows_the_timeline_and_the_steps_allowed(users, incidents):
    incident = incidents["mine"]
    step(incident, users.worker, "escalate", comment="需要社区协调")
    community = client_for(users.community)
    response = community.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "需要社区协调" in body
    assert [e.action for e, _, _ in response.context["events"]] == ["report", "escalate"]
    actions = [a["action"] for a in response.context["actions"]]
    assert {"dispatch", "escalate", "dismiss", "merge"} <= set(actions)
    assert 'data-action="dispatch"' in body
    config = response.context["config"]
    assert config["version"] == 2 and config["grid"]["type"] == "MultiPolygon"
    # The worker sees it but has nothing to do; another grid's worker does not see it.
    worker = client_for(users.worker).get(f"/incidents/{incident.pk}/")
    assert worker.status_code == 200 and worker.context["actions"] == []
    assert client_for(users.other_worker).get(f"/incidents/{incident.pk}/").status_code == 404
    assert client_for(users.department).get(f"/incidents/{incident.pk}/").status_code == 404


@pytest.mark.parametrize(
    "who", ["admin", "district", "street", "community", "worker", "department"]
)
def test_the_report_page_renders_for_every_role(users, catalogue, who):
    response = client_for(getattr(users, who)).get("/incidents/new/")
    assert response.status_code == 200
    assert "report-map" in response.content.decode()


def test_notifications_page_and_unread_count(users, incidents):
    step(incidents["mine"], users.worker, "escalate")
    community = client_for(users.community)
    page = community.get("/notifications/")
    assert page.status_code == 200
    assert 'id="unread-count">1<' in page.content.decode()
    assert incidents["mine"].title in page.content.decode()
    assert f'href="/incidents/{incidents["mine"].pk}/"' in page.content.decode()
    Notification.objects.filter(user=users.community).update(read_at=timezone.now())
    assert "unread-count" not in community.get("/incidents/").content.decode()
    # Only one's own.
    assert (
        incidents["mine"].title
        not in client_for(users.street).get("/notifications/").content.decode()
    )


# ---- the incidents layer ---------------------------------------------------------------------


def test_incident_tiles_are_scoped_and_follow_a_step(users, incidents, tree):
    mine = incidents["mine"]
    z, x, y = tile_of(mine.location.x, mine.location.y, 16)
    points = {
        f["id"]: f["properties"]
        for f in features(get(client_for(users.worker), "incidents", z, x, y), "incidents")
    }
    assert set(points) == {mine.pk, incidents["noisy"].pk}
    assert points[mine.pk]["status"] == "reported"
    assert points[mine.pk]["category_code"] == "0101"
    assert points[mine.pk]["title"] == "井盖丢了"
    other = features(get(client_for(users.other_worker), "incidents", z, x, y), "incidents")
    assert other == []
    assert features(get(client_for(users.department), "incidents", z, x, y), "incidents") == []
    # A step shows at once: the layer's tiles are invalidated by the incident's save.
    step(mine, users.worker, "register")
    points = {
        f["id"]: f["properties"]
        for f in features(get(client_for(users.worker), "incidents", z, x, y), "incidents")
    }
    assert points[mine.pk]["status"] == "registered"
    # Below zoom 13: one point inside each grid with its count of open incidents, scoped
    # (the map draws it as a counted circle).
    counts = features(
        get(client_for(users.district), "incidents", *tile_of(105.95, 29.35, 10)), "incidents"
    )
    per_grid = {f["properties"]["code"]: f["properties"]["n"] for f in counts}
    assert per_grid == {tree.grids[(1, 1, 1)].code: 2, tree.grids[(2, 2, 2)].code: 1}
    assert {f["geometry"]["type"] for f in counts} == {"Point"}
    mine_only = features(
        get(client_for(users.worker), "incidents", *tile_of(105.95, 29.35, 10)), "incidents"
    )
    assert [(f["properties"]["code"], f["properties"]["n"]) for f in mine_only] == [
        (tree.grids[(1, 1, 1)].code, 2)
    ]
    assert decode(get(client_for(users.department), "incidents", *tile_of(105.95, 29.35, 10))) == {}


def test_closed_incidents_stay_on_the_map_for_a_while(users, incidents):
    incident = incidents["mine"]
    step(incident, users.worker, "dismiss", comment="重复")
    z, x, y = tile_of(incident.location.x, incident.location.y, 16)
    client = client_for(users.worker)
    points = {
        f["id"]: f["properties"] for f in features(get(client, "incidents", z, x, y), "incidents")
    }
    assert points[incident.pk]["status"] == "closed"
    Incident.objects.filter(pk=incident.pk).update(closed_at=timezone.now() - dt.timedelta(days=31))
    Incident.objects.get(pk=incident.pk).save()  # an ORM save, to invalidate the tiles
    points = {f["id"] for f in features(get(client, "incidents", z, x, y), "incidents")}
    assert incident.pk not in points


def test_the_map_page_lists_the_incidents_layer_with_status_colours(users):
    response = client_for(users.street).get("/")
    meta = response.context["style"]["metadata"]["gridline"]
    layer = next(lay for lay in meta["layers"] if lay["name"] == "incidents")
    assert layer["aggregatedBelow"] == 13
    assert set(layer["style"]["statuses"]) >= {"reported", "handling", "closed"}
