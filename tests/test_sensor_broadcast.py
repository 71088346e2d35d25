"""One-key broadcast (一键调度): making a broadcast, delivering it through the log adapter, a
fake gateway (retries, back-off, the last attempt, refusals), a real Mosquitto broker
(delivery, acknowledgements, an outage) and the API."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from procrastinate.contrib.django.models import ProcrastinateJob

from grids.models import Level
from grids.problems import ProblemsError
from grids.services import boundaries
from sensors import gateways
from sensors.gateways import GatewayRejected, GatewayUnavailable
from sensors.models import Broadcast, Delivery, DeliveryState, Gateway
from sensors.services import broadcast
from sensors.services.registry import SensorSpec, create_sensor, issue_token
from tests.conftest import VALID_FROM, cell, centre_of

MOSQUITTO = "/usr/sbin/mosquitto"
QUEUED, SENT, ACKED, FAILED = (
    DeliveryState.QUEUED,
    DeliveryState.SENT,
    DeliveryState.ACKNOWLEDGED,
    DeliveryState.FAILED,
)


# --- fixtures ------------------------------------------------------------------------------


def _pole(code: str, point: Point, **extra):
    return create_sensor(
        SensorSpec(
            code=code,
            type="voice_pole",
            location=point,
            name=f"广播杆{code}",
            properties={"broadcast_radius": 300},
            **extra,
        )
    )


@pytest.fixture
def poles(tree):
    """A voice pole at the centre of each grid of street 1, keyed by (s, c, g)."""
    return {
        key: _pole(f"P{''.join(map(str, key))}", centre_of(grid))
        for key, grid in tree.grids.items()
        if key[0] == 1
    }


@pytest.fixture
def camera(tree):
    return create_sensor(
        SensorSpec(
            code="CAM1",
            type="camera",
            location=centre_of(tree.grids[(1, 1, 1)]),
            properties={"bearing": 90, "fov": 60, "range": 200},
        )
    )


@pytest.fixture
def foreign_pole(tree):
    """A pole in a neighbouring district."""
    boundaries.create_region(
        level=Level.DISTRICT,
        code="500119",
        name="江津区",
        geom=cell(106.00, 29.30, 106.10, 29.40),
        valid_from=VALID_FROM,
    )
    return _pole("FOREIGN1", Point(106.05, 29.35, srid=4326))


@pytest.fixture
def clock(monkeypatch):
    """Moves the time the services see forward."""
    real_now = timezone.now

    class Clock:
        offset = dt.timedelta()

        def advance(self, **delta) -> None:
            self.offset += dt.timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + c.offset)
    return c


def make(users, poles, *, user=None, keys=None, **kwargs) -> Broadcast:
    keys = keys or list(poles)
    return broadcast.create_broadcast(
        user=user or users.street,
        message=kwargs.pop("message", "山林起火,请立即撤离"),
        pole_ids=[poles[key].pk for key in keys],
        **kwargs,
    )


def states(made: Broadcast) -> list[str]:
    return list(Delivery.objects.filter(broadcast=made).values_list("state", flat=True))


# --- making a broadcast --------------------------------------------------------------------


def test_create_queues_one_delivery_per_pole_and_defers_the_job(
    users, poles, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = make(users, poles, repeat=3, point=Point(105.91, 29.31, srid=4326))
    deliveries = list(made.deliveries.all())
    assert len(deliveries) == len(poles)
    assert {d.state for d in deliveries} == {QUEUED}
    assert all(d.attempts == 0 and d.next_attempt_at is not None for d in deliveries)
    assert made.adapter == "log" and made.repeat == 3 and made.created_by == users.street
    job = ProcrastinateJob.objects.get(task_name="sensors.jobs.deliver_broadcast")
    assert job.args == {"broadcast_id": made.pk}


def test_a_pole_chosen_twice_gets_one_delivery(users, poles):
    pole = poles[(1, 1, 1)]
    made = broadcast.create_broadcast(
        user=users.street, message="演练", pole_ids=[pole.pk, pole.pk]
    )
    assert made.deliveries.count() == 1


def test_create_links_an_incident_the_user_sees(users, poles, incident):
    made = make(users, poles, incident=incident.pk)
    assert made.incident == incident


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"message": ""}, "message", "required"),
        ({"message": "   "}, "message", "required"),
        ({"message": "火" * 501}, "message", "too_long"),
        ({"repeat": 0}, "repeat", "invalid_repeat"),
        ({"repeat": 11}, "repeat", "invalid_repeat"),
        ({"pole_ids": []}, "poles", "required"),
        ({"pole_ids": [987654]}, "poles", "unknown_pole"),
        ({"incident": 987654}, "incident", "unknown_incident"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(users, poles, change, field, code):
    arguments = {
        "user": users.street,
        "message": "山林起火",
        "pole_ids": [p.pk for p in poles.values()],
        **change,
    }
    with pytest.raises(ProblemsError) as refused:
        broadcast.create_broadcast(**arguments)
    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]
    assert not Broadcast.objects.exists()


def test_create_refuses_a_camera_and_names_it(users, poles, camera):
    with pytest.raises(ProblemsError) as refused:
        broadcast.create_broadcast(
            user=users.street, message="山林起火", pole_ids=[poles[(1, 1, 1)].pk, camera.pk]
        )
    (problem,) = refused.value.problems
    assert (problem.field, problem.code, problem.feature) == (
        "poles",
        "not_a_voice_pole",
        str(camera.pk),
    )


def test_poles_of_another_district_are_unknown_except_to_administrators(users, poles, foreign_pole):
    with pytest.raises(ProblemsError) as refused:
        broadcast.create_broadcast(
            user=users.district, message="山林起火", pole_ids=[foreign_pole.pk]
        )
    assert refused.value.problems[0].code == "unknown_pole"
    made = broadcast.create_broadcast(
        user=users.admin, message="山林起火", pole_ids=[foreign_pole.pk]
    )
    assert made.deliveries.get().pole == foreign_pole


@pytest.mark.parametrize("who", ["community", "street", "district", "department", "admin"])
def test_staff_above_the_grid_worker_may_broadcast(users, poles, who):
    assert make(users, poles, user=getattr(users, who)).deliveries.count() == len(poles)


def test_a_grid_worker_may_not_broadcast(users, poles):
    with pytest.raises(ProblemsError) as refused:
        make(users, poles, user=users.worker)
    assert refused.value.status_code == 403


# --- delivering through the log adapter ----------------------------------------------------


def test_log_adapter_writes_the_message_and_marks_sent(users, poles, caplog):
    made = make(users, poles)
    with caplog.at_level("INFO", logger="gridline.broadcast"):
        assert broadcast.deliver(made.pk) == len(poles)
    assert set(states(made)) == {SENT}
    delivery = made.deliveries.first()
    assert delivery.attempts == 1 and delivery.sent_at and delivery.next_attempt_at is None
    assert sum("山林起火,请立即撤离" in r.getMessage() for r in caplog.records) == len(poles)
    # Nothing answers through the log: the deliveries stay sent.
    assert broadcast.collect_acknowledgements() == 0
    assert set(states(made)) == {SENT}
    # Sent ones are not sent again.
    assert broadcast.deliver(made.pk) == 0


def test_an_unknown_adapter_is_a_configuration_error(settings):
    settings.GRIDLINE_BROADCAST_GATEWAY = "pigeon"
    with pytest.raises(ImproperlyConfigured):
        gateways.get_gateway()


def test_a_bad_mqtt_url_is_a_configuration_error(settings):
    settings.GRIDLINE_BROADCAST_GATEWAY = "mqtt"
    settings.GRIDLINE_MQTT_URL = "http://broker:1883"
    with pytest.raises(ImproperlyConfigured):
        gateways.get_gateway()


def test_mqtt_url_carries_credentials():
    broker = gateways.Broker.from_url("mqtt://gw%40yc:s3cr%3At@10.0.0.5:18830")
    assert broker == gateways.Broker("10.0.0.5", 18830, "gw@yc", "s3cr:t")
    assert gateways.Broker.from_url("mqtt://mosquitto").port == 1883


# --- retries with a fake gateway (unit tests) ----------------------------------------------


class FakeGateway:
    """Fails as told: `down` → unavailable, codes in `refuse` → rejected."""

    name = "fake"

    def __init__(self):
        self.down = False
        self.refuse: set[str] = set()
        self.sent: list[tuple[int, str, str, int]] = []
        self.acks: list[tuple[int, dt.datetime]] = []
        self.confirmed = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass

    def send(self, delivery_id, pole_code, message, repeat):
        if pole_code in self.refuse:
            raise GatewayRejected(f"no such pole {pole_code} on the controller")
        if self.down:
            raise GatewayUnavailable("broker down")
        self.sent.append((delivery_id, pole_code, message, repeat))

    def collect_acknowledgements(self):
        acks, self.acks = self.acks, []
        return acks

    def confirm_acknowledgements(self):
        self.confirmed += 1


@pytest.fixture
def fake(monkeypatch):
    gateway = FakeGateway()
    monkeypatch.setattr(broadcast, "get_gateway", lambda: gateway)
    return gateway


def test_unavailable_gateway_leaves_deliveries_queued_with_back_off(users, poles, fake, clock):
    made = make(users, poles)
    fake.down = True
    before = timezone.now()
    assert broadcast.deliver(made.pk) == 0
    for delivery in made.deliveries.all():
        assert delivery.state == QUEUED and delivery.attempts == 1
        assert delivery.last_error == "broker down"
        assert delivery.next_attempt_at >= before + dt.timedelta(seconds=15)
    # Not yet due: nothing is tried.
    assert broadcast.retry_due() == 0
    assert set(made.deliveries.values_list("attempts", flat=True)) == {1}
    # Still down at the next try: the wait grows.
    clock.advance(seconds=16)
    broadcast.retry_due()
    second = made.deliveries.first()
    assert second.attempts == 2
    assert second.next_attempt_at - timezone.now() > dt.timedelta(seconds=25)
    # Back again: all sent, in the order of the message.
    fake.down = False
    clock.advance(seconds=31)
    assert broadcast.retry_due() == len(poles)
    assert set(states(made)) == {SENT}
    assert {code for _id, code, _m, _r in fake.sent} == {p.code for p in poles.values()}
    assert made.deliveries.first().last_error == ""


def test_back_off_grows_then_stays_at_its_longest():
    waits = [broadcast.backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == sorted(waits) and waits[0] == 15 and waits[-1] == waits[-2]


def test_the_last_attempt_fails_the_delivery(users, poles, fake, clock, settings):
    settings.GRIDLINE_BROADCAST_MAX_ATTEMPTS = 3
    made = make(users, poles, keys=[(1, 1, 1)])
    fake.down = True
    broadcast.deliver(made.pk)
    for _ in range(2):
        clock.advance(minutes=10)
        broadcast.retry_due()
    delivery = made.deliveries.get()
    assert (delivery.state, delivery.attempts) == (FAILED, 3)
    assert delivery.last_error == "broker down" and delivery.next_attempt_at is None
    clock.advance(minutes=10)
    fake.down = False
    assert broadcast.retry_due() == 0
    # Put back by hand, it goes out.
    assert broadcast.retry_failed(made, users.street) == 1
    assert made.deliveries.get().attempts == 0
    assert broadcast.deliver(made.pk) == 1
    assert made.deliveries.get().state == SENT


def test_a_rejected_delivery_fails_at_once_and_the_others_go(users, poles, fake):
    made = make(users, poles)
    refused = poles[(1, 2, 1)]
    fake.refuse = {refused.code}
    assert broadcast.deliver(made.pk) == len(poles) - 1
    failed = made.deliveries.get(pole=refused)
    assert (failed.state, failed.attempts) == (FAILED, 1)
    assert "no such pole" in failed.last_error
    assert made.deliveries.filter(state=SENT).count() == len(poles) - 1


def test_acknowledgements_mark_sent_deliveries_and_ignore_the_rest(users, poles, fake, caplog):
    made = make(users, poles, keys=[(1, 1, 1), (1, 1, 2)])
    sent, never = list(made.deliveries.order_by("pole__code"))
    fake.refuse = set()
    broadcast.deliver(made.pk)
    Delivery.objects.filter(pk=never.pk).update(state=QUEUED, attempts=0, sent_at=None)
    at = timezone.now() - dt.timedelta(seconds=5)
    fake.acks = [(sent.pk, at), (never.pk, at), (987654, at), (sent.pk, timezone.now())]
    with caplog.at_level("WARNING", logger="gridline.broadcast"):
        assert broadcast.collect_acknowledgements() == 1
    sent.refresh_from_db()
    assert (sent.state, sent.acknowledged_at) == (ACKED, at)
    assert Delivery.objects.get(pk=never.pk).state == QUEUED
    assert fake.confirmed == 1
    assert "987654" in caplog.text and "never sent" in caplog.text


# --- a real Mosquitto ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """Debian's broker as a child process on a port of its own, persisting to a directory
    that outlives a restart."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            # Run as root, it would switch to the mosquitto user, who cannot write here.
            f"user {getpass.getuser()}\n"
            f"log_dest file {directory}/mosquitto.log\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        log = (self.directory / "mosquitto.log").read_text(errors="replace")
        raise RuntimeError(f"mosquitto did not start:\n{log}")

    def stop(self) -> None:
        # SIGTERM: the broker writes its persistence file on the way out.
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def mosquitto(tmp_path, settings):
    if not os.path.exists(MOSQUITTO):
        pytest.skip(f"{MOSQUITTO} is missing (./gridline test installs Debian's mosquitto)")
    broker = Mosquitto(tmp_path)
    broker.start()
    settings.GRIDLINE_BROADCAST_GATEWAY = "mqtt"
    settings.GRIDLINE_MQTT_URL = broker.url
    settings.GRIDLINE_MQTT_TOPIC_PREFIX = f"test{broker.port}"
    yield broker
    broker.stop()


class Pole:
    """The poles' controller: receives broadcasts and answers each with an acknowledgement."""

    def __init__(self, broker: Mosquitto, prefix: str, *, answer: bool = True):
        self.prefix = prefix
        self.answer = answer
        self.received: list[dict] = []
        self.answered: list[mqtt.MQTTMessageInfo] = []
        self.arrived = threading.Condition()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pole-{prefix}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(f"{prefix}/poles/+/broadcast", qos=1)
        assert subscribed.wait(5), "the pole could not subscribe"

    def _on_message(self, client, userdata, message):
        body = json.loads(message.payload)
        body["topic"] = message.topic
        if self.answer:
            code = message.topic.split("/")[-2]
            self.answered.append(
                client.publish(
                    f"{self.prefix}/poles/{code}/ack",
                    json.dumps({"delivery": body["delivery"], "at": "2025-03-01T08:00:00+08:00"}),
                    qos=1,
                )
            )
        with self.arrived:
            self.received.append(body)
            self.arrived.notify_all()

    def wait_for(self, n: int) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= n, timeout=10)
        for info in list(self.answered):
            info.wait_for_publish(5)
        return self.received

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_broadcast_reaches_the_pole_and_its_ack_is_collected(
    users, poles, mosquitto, settings
):
    prefix = settings.GRIDLINE_MQTT_TOPIC_PREFIX
    # The worker's every-minute job has opened the acknowledgement session before.
    assert broadcast.collect_acknowledgements() == 0
    pole = Pole(mosquitto, prefix)
    made = make(users, poles, keys=[(1, 1, 1), (1, 2, 2)], repeat=3)
    assert made.adapter == "mqtt"
    assert broadcast.deliver(made.pk) == 2
    assert set(states(made)) == {SENT}
    received = pole.wait_for(2)
    pole.close()
    by_pole = {body["pole"]: body for body in received}
    assert set(by_pole) == {poles[(1, 1, 1)].code, poles[(1, 2, 2)].code}
    body = by_pole[poles[(1, 1, 1)].code]
    assert body["message"] == "山林起火,请立即撤离" and body["repeat"] == 3
    assert body["topic"] == f"{prefix}/poles/{poles[(1, 1, 1)].code}/broadcast"
    assert dt.datetime.fromisoformat(body["sent_at"]).tzinfo is not None
    delivery = made.deliveries.get(pole=poles[(1, 1, 1)])
    assert body["delivery"] == delivery.pk
    # The acks were published while no collector was connected: the session kept them.
    assert broadcast.collect_acknowledgements() == 2
    delivery.refresh_from_db()
    assert delivery.state == ACKED
    assert delivery.acknowledged_at == dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
    # Recorded acks are answered: the broker does not hand them over again.
    assert broadcast.collect_acknowledgements() == 0


def test_mqtt_broker_outage_loses_nothing(users, poles, mosquitto, settings, clock):
    prefix = settings.GRIDLINE_MQTT_TOPIC_PREFIX
    assert broadcast.collect_acknowledgements() == 0
    made = make(users, poles)

    mosquitto.stop()
    assert broadcast.deliver(made.pk) == 0
    deliveries = list(made.deliveries.all())
    assert {d.state for d in deliveries} == {QUEUED}
    assert {d.attempts for d in deliveries} == {1}
    assert all(d.next_attempt_at > timezone.now() for d in deliveries)
    assert all("cannot reach the MQTT broker" in d.last_error for d in deliveries)
    with pytest.raises(GatewayUnavailable):
        broadcast.collect_acknowledgements()

    mosquitto.start()
    pole = Pole(mosquitto, prefix)
    # Not due yet: the back-off is respected.
    assert broadcast.retry_due() == 0
    clock.advance(minutes=1)
    assert broadcast.retry_due() == len(poles)
    assert set(states(made)) == {SENT}
    assert {body["pole"] for body in pole.wait_for(len(poles))} == {p.code for p in poles.values()}
    pole.close()

    # The acknowledgements outlive a broker restart (persistence) and are collected.
    mosquitto.stop()
    mosquitto.start()
    assert broadcast.collect_acknowledgements() == len(poles)
    assert set(states(made)) == {ACKED}


def test_mqtt_refuses_a_pole_code_that_is_not_a_topic_level(mosquitto):
    with gateways.get_gateway() as gateway, pytest.raises(GatewayRejected):
        gateway.send(1, "P/1", "山林起火", 1)


def test_malformed_acknowledgements_are_dropped(users, poles, mosquitto, settings, caplog):
    prefix = settings.GRIDLINE_MQTT_TOPIC_PREFIX
    assert broadcast.collect_acknowledgements() == 0
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bad-pole")
    sender.connect("127.0.0.1", mosquitto.port)
    sender.loop_start()
    for payload in (b"not json", b'{"delivery": "x"}', b'{"delivery": 5, "at": "yesterday"}'):
        sender.publish(f"{prefix}/poles/P111/ack", payload, qos=1).wait_for_publish(5)
    sender.disconnect()
    sender.loop_stop()
    with caplog.at_level("WARNING", logger="gridline.broadcast"):
        assert broadcast.collect_acknowledgements() == 0
    assert caplog.text.count("malformed acknowledgement") == 3
    # Answered anyway, so they do not come back.
    caplog.clear()
    assert broadcast.collect_acknowledgements() == 0
    assert "malformed" not in caplog.text


def test_an_ack_counts_only_from_the_pole_the_message_went_to(
    users, poles, mosquitto, settings, caplog
):
    prefix = settings.GRIDLINE_MQTT_TOPIC_PREFIX
    assert broadcast.collect_acknowledgements() == 0
    made = make(users, poles, keys=[(1, 1, 1), (1, 2, 2)])
    assert broadcast.deliver(made.pk) == 2
    delivery = made.deliveries.get(pole=poles[(1, 1, 1)])
    payload = json.dumps({"delivery": delivery.pk, "at": "2025-03-01T08:00:00+08:00"})
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="some-pole")
    sender.connect("127.0.0.1", mosquitto.port)
    sender.loop_start()
    other = poles[(1, 2, 2)].code
    sender.publish(f"{prefix}/poles/{other}/ack", payload, qos=1).wait_for_publish(5)
    with caplog.at_level("WARNING", logger="gridline.broadcast"):
        assert broadcast.collect_acknowledgements() == 0
    assert "not" in caplog.text and other in caplog.text
    sender.publish(f"{prefix}/poles/{delivery.pole.code}/ack", payload, qos=1).wait_for_publish(5)
    sender.disconnect()
    sender.loop_stop()
    assert broadcast.collect_acknowledgements() == 1
    delivery.refresh_from_db()
    assert delivery.state == ACKED


# --- the API -------------------------------------------------------------------------------

URL = "/api/sensors/broadcasts/"


def test_api_create_answers_201_with_the_broadcast(users, poles, api):
    response = api(users.street).post(
        URL,
        {
            "message": "山林起火,请立即撤离",
            "poles": [poles[(1, 1, 1)].pk, poles[(1, 2, 1)].pk],
            "repeat": 3,
            "point": [105.91, 29.31],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "山林起火,请立即撤离" and body["repeat"] == 3
    assert body["point"] == [105.91, 29.31]
    assert body["created_by"] == "street" and body["adapter"] == "log"
    assert body["counts"] == {"queued": 2, "sent": 0, "acknowledged": 0, "failed": 0}
    assert [d["pole"]["code"] for d in body["deliveries"]] == ["P111", "P121"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"message": ""}, "message"),
        ({"message": "火" * 501}, "message"),
        ({"repeat": 0}, "repeat"),
        ({"repeat": "twice"}, "repeat"),
        ({"poles": []}, "poles"),
        ({"poles": [987654]}, "poles"),
        ({"poles": "P111"}, "poles"),
        ({"point": [200, 29.3]}, "point"),
        ({"point": "here"}, "point"),
        ({"incident": 987654}, "incident"),
    ],
)
def test_api_create_refuses_bad_input_with_400_naming_the_field(users, poles, api, change, field):
    payload = {"message": "山林起火", "poles": [poles[(1, 1, 1)].pk], **change}
    response = api(users.street).post(URL, payload, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Broadcast.objects.exists()


def test_api_grid_worker_may_not_broadcast(users, poles, api):
    payload = {"message": "山林起火", "poles": [poles[(1, 1, 1)].pk]}
    response = api(users.worker).post(URL, payload, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_allowed"
    assert api().post(URL, payload, format="json").status_code in (401, 403)


def test_api_detail_shape(users, poles, api, fake):
    made = make(users, poles, keys=[(1, 1, 1), (1, 1, 2)], point=Point(105.91, 29.31, srid=4326))
    fake.refuse = {poles[(1, 1, 2)].code}
    broadcast.deliver(made.pk)
    body = api(users.community).get(f"{URL}{made.pk}/").json()
    assert set(body) >= {
        "id",
        "message",
        "repeat",
        "created_at",
        "created_by",
        "adapter",
        "point",
        "counts",
        "deliveries",
    }
    assert body["counts"] == {"queued": 0, "sent": 1, "acknowledged": 0, "failed": 1}
    first, second = body["deliveries"]
    assert set(first) == {
        "id",
        "pole",
        "state",
        "attempts",
        "last_error",
        "sent_at",
        "acknowledged_at",
        "next_attempt_at",
    }
    assert first["pole"] == {"id": poles[(1, 1, 1)].pk, "code": "P111", "name": "广播杆P111"}
    assert (first["state"], first["attempts"], first["sent_at"] is not None) == ("sent", 1, True)
    assert (second["state"], second["next_attempt_at"]) == ("failed", None)


def test_api_list_is_the_district_newest_first_with_pinned_queries(
    users, poles, foreign_pole, api, django_assert_max_num_queries
):
    made = [make(users, poles, message=f"第{n}次") for n in range(5)]
    broadcast.create_broadcast(user=users.admin, message="江津", pole_ids=[foreign_pole.pk])
    client = api(users.department)
    with django_assert_max_num_queries(3):
        body = client.get(URL).json()
    assert body["count"] == 5
    assert [row["id"] for row in body["results"]] == [b.pk for b in reversed(made)]
    assert body["results"][0]["counts"]["queued"] == len(poles)
    assert "deliveries" not in body["results"][0]
    # Another district's broadcast is absent, not forbidden.
    other = Broadcast.objects.get(message="江津")
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert api(users.admin).get(URL).json()["count"] == 6


def test_api_retry_puts_failed_deliveries_back(users, poles, api, fake):
    made = make(users, poles, keys=[(1, 1, 1)])
    fake.refuse = {poles[(1, 1, 1)].code}
    broadcast.deliver(made.pk)
    response = api(users.street).post(f"{URL}{made.pk}/retry/")
    assert response.status_code == 200
    assert response.json()["counts"]["queued"] == 1
    assert api(users.worker).post(f"{URL}{made.pk}/retry/").status_code == 403


@pytest.fixture
def gateway_token(tree):
    gateway = Gateway.objects.create(code="yc-broadcast", name="广播控制器", district=tree.district)
    return gateway, issue_token(gateway)


def test_api_ack_with_a_gateway_token(users, poles, api, gateway_token):
    _gateway, token = gateway_token
    made = make(users, poles, keys=[(1, 1, 1), (1, 1, 2)])
    broadcast.deliver(made.pk)
    delivery, unsent = made.deliveries.order_by("pole__code")
    Delivery.objects.filter(pk=unsent.pk).update(state=QUEUED, attempts=0, sent_at=None)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/sensors/deliveries/{delivery.pk}/ack/"
    response = client.post(url, {"at": "2025-03-01T08:00:00+08:00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_at"].startswith("2025-03-01T")
    # A repeat keeps the first time.
    client.post(url, {}, format="json")
    delivery.refresh_from_db()
    assert delivery.acknowledged_at == dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
    never = client.post(f"/api/sensors/deliveries/{unsent.pk}/ack/", {}, format="json")
    assert never.status_code == 409
    # A time no pole can have played it at is a 400 naming `at` (a 500 before #15).
    for at in ("0001-01-01", "9999-12-31T23:59:59-05:00"):
        bad = client.post(f"/api/sensors/deliveries/{unsent.pk}/ack/", {"at": at}, format="json")
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "at"
    assert client.post("/api/sensors/deliveries/987654/ack/", {}).status_code == 404


def test_api_ack_refuses_people_and_other_districts_gateways(
    users, poles, foreign_pole, api, gateway_token
):
    made = make(users, poles, keys=[(1, 1, 1)])
    broadcast.deliver(made.pk)
    url = f"/api/sensors/deliveries/{made.deliveries.get().pk}/ack/"
    assert api(users.admin).post(url, {}, format="json").status_code in (401, 403)
    assert api().post(url, {}, format="json").status_code == 401
    foreign = Gateway.objects.create(
        code="jj-broadcast", name="江津控制器", district=foreign_pole.district
    )
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(foreign)}")
    assert client.post(url, {}, format="json").status_code == 404
    assert made.deliveries.get().state == SENT


def test_the_every_minute_job_sends_what_is_due(users, poles):
    from sensors import jobs

    made = make(users, poles)
    jobs.retry_deliveries(int(timezone.now().timestamp()))
    assert set(states(made)) == {SENT}
