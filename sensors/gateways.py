"""Gateway adapters for one-key broadcast (一键调度): how a message reaches a voice pole.

An adapter sends one pole's delivery and reports, by raising, how it went:

* returns: the gateway took the message (the delivery is *sent*);
* `GatewayUnavailable`: a transient fault (broker down, refused connection, no answer in
  time): the delivery stays queued and is tried again later;
* `GatewayRejected`: the message can never go through as it is (the delivery *fails*).

Poles (or the broadcast controller speaking for them) confirm that they played a message;
`collect_acknowledgements()` returns those confirmations, and `confirm_acknowledgements()`
tells the gateway they are recorded, so that a crash between the two loses none.

Adapters are used as context managers, one per delivery run (`with get_gateway() as g:`):
a connection lives for one run of the worker's job and is closed after it, so a worker holds
no idle connection and a broker restarted between two runs needs no reconnection logic.

* `LogGateway` ("log", the demo's): writes the broadcast to the `gridline.broadcast` log and
  reports it sent. Nothing answers, so its deliveries stay *sent*, never *acknowledged*.
* `MQTTGateway` ("mqtt"): publishes to a real broker (Debian's Mosquitto, started by
  `./gridline up`), QoS 1 (at least once: a pole may get a message twice and plays it once,
  by its `delivery` id), waiting for the broker's PUBACK.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from grids import limits

log = logging.getLogger("gridline.broadcast")

# How long to wait for the broker: TCP connect, CONNACK, PUBACK, SUBACK.
TIMEOUT_SECONDS = 5.0
KEEPALIVE_SECONDS = 30
# Collecting acknowledgements stops once the broker has been quiet this long (it hands a
# persistent session's stored messages over straight after the connection), or at the cap.
ACK_QUIET_SECONDS = 0.5
ACK_MAX_SECONDS = 10.0
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# Messages the broker may hand over before we answer: without it Mosquitto stops at 20.
RECEIVE_MAXIMUM = 65535

# (delivery id, time, the pole it came from when the channel says so: the MQTT topic).
Acknowledgement = tuple[int, dt.datetime] | tuple[int, dt.datetime, str]


class GatewayError(Exception):
    """A delivery did not reach the gateway."""


class GatewayUnavailable(GatewayError):
    """Transient: try again later."""


class GatewayRejected(GatewayError):
    """Permanent: this message to this pole will never go through."""


class Gateway(Protocol):
    name: str

    def send(self, delivery_id: int, pole_code: str, message: str, repeat: int) -> None: ...

    def collect_acknowledgements(self) -> list[Acknowledgement]: ...

    def confirm_acknowledgements(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Gateway: ...

    def __exit__(self, *exc_info) -> None: ...


class _Closing:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        pass


class LogGateway(_Closing):
    """For the demo and for sites without a broadcast system: the message goes to the log."""

    name = "log"

    def send(self, delivery_id: int, pole_code: str, message: str, repeat: int) -> None:
        log.info(
            "broadcast delivery %d to pole %s (%d times): %s",
            delivery_id,
            pole_code,
            repeat,
            message,
        )

    def collect_acknowledgements(self) -> list[Acknowledgement]:
        return []

    def confirm_acknowledgements(self) -> None:
        pass


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """mqtt://[user[:password]@]host[:port]"""
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ImproperlyConfigured(
                f"GRIDLINE_MQTT_URL is mqtt://[user:password@]host[:port], not {url!r}"
            )
        try:
            port = parts.port or 1883
        except ValueError as exc:
            raise ImproperlyConfigured(f"GRIDLINE_MQTT_URL has a bad port: {url!r}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _topic_level(code: str) -> bool:
    return bool(code) and not any(c in code for c in "/+#\0")


def _parse_time(value) -> dt.datetime | None:
    if value is None:
        return timezone.now()
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if timezone.is_aware(at) else timezone.make_aware(at, dt.UTC)


class MQTTGateway(_Closing):
    """Broadcasts through an MQTT broker.

    * message: QoS 1 to `{prefix}/poles/{code}/broadcast`, JSON
      `{"delivery": id, "pole": code, "message": ..., "repeat": n, "sent_at": iso}`;
    * acknowledgement: the pole publishes `{"delivery": id, "at": iso}` to
      `{prefix}/poles/{code}/ack`. They are read with a persistent session (fixed client id
      `{prefix}-acks`, MQTT 5 clean_start False with a session that never
      expires, QoS 1), so the broker keeps acknowledgements
      that arrive while no one listens; the session exists from the first collection on
      (the worker's every-minute job), and the broker's persistence keeps it over restarts.
      One collector at a time: a second client with the same id would take the session over.
    """

    name = "mqtt"

    def __init__(
        self,
        url: str | None = None,
        prefix: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.broker = Broker.from_url(url or settings.GRIDLINE_MQTT_URL)
        self.prefix = (prefix or settings.GRIDLINE_MQTT_TOPIC_PREFIX).strip("/")
        self.timeout = timeout
        self._publisher: mqtt.Client | None = None
        # Once the broker failed in a run, the rest of the run's deliveries fail at once
        # instead of each waiting for its own timeout.
        self._down: str | None = None
        self._collector: mqtt.Client | None = None
        self._collected: list[int] = []

    @property
    def ack_client_id(self) -> str:
        return f"{self.prefix}-acks"

    def broadcast_topic(self, pole_code: str) -> str:
        return f"{self.prefix}/poles/{pole_code}/broadcast"

    @property
    def ack_topic(self) -> str:
        return f"{self.prefix}/poles/+/ack"

    # --- connections -----------------------------------------------------------------------

    def _client(self, client_id: str, *, persistent: bool = False) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            # MQTT 5: the collector states its own receive maximum, so one collection gets
            # every stored acknowledgement (they are answered only once they are recorded).
            protocol=mqtt.MQTTv5,
            # A dropped connection is reported to the caller, not silently re-opened with
            # messages queued in memory that a closing run would then throw away.
            reconnect_on_failure=False,
            manual_ack=persistent,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        client.connect_timeout = self.timeout
        return client

    def _open(self, client: mqtt.Client, *, persistent: bool = False) -> None:
        connected = threading.Event()
        outcome: dict = {}

        def on_connect(client, userdata, flags, reason_code, properties):
            outcome["reason"] = reason_code
            connected.set()

        client.on_connect = on_connect
        where = f"{self.broker.host}:{self.broker.port}"
        try:
            if persistent:
                # clean_start False and a session that never expires: what arrives for it
                # while no one is connected is kept by the broker.
                properties = Properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = SESSION_NEVER_EXPIRES
                properties.ReceiveMaximum = RECEIVE_MAXIMUM
                client.connect(
                    self.broker.host,
                    self.broker.port,
                    keepalive=KEEPALIVE_SECONDS,
                    clean_start=False,
                    properties=properties,
                )
            else:
                client.connect(
                    self.broker.host,
                    self.broker.port,
                    keepalive=KEEPALIVE_SECONDS,
                    clean_start=True,
                )
        except OSError as exc:
            # Refused, unreachable, DNS failure and socket timeouts are all OSErrors.
            raise GatewayUnavailable(f"cannot reach the MQTT broker at {where}: {exc}") from exc
        client.loop_start()
        if not connected.wait(self.timeout):
            self._close(client)
            raise GatewayUnavailable(f"no answer from the MQTT broker at {where}")
        if outcome["reason"].is_failure:
            self._close(client)
            raise GatewayUnavailable(f"the MQTT broker at {where} refused: {outcome['reason']}")

    def _close(self, client: mqtt.Client) -> None:
        """Disconnect after what was queued (PUBACKs of collected acknowledgements) left."""
        gone = threading.Event()
        client.on_disconnect = lambda *args: gone.set()
        if client.is_connected():
            client.disconnect()
            gone.wait(self.timeout)
        client.loop_stop()

    def close(self) -> None:
        for client in (self._publisher, self._collector):
            if client is not None:
                self._close(client)
        self._publisher = self._collector = None
        self._collected = []

    # --- sending ---------------------------------------------------------------------------

    def _unavailable(self, reason: str) -> GatewayUnavailable:
        self._down = reason
        return GatewayUnavailable(reason)

    def send(self, delivery_id: int, pole_code: str, message: str, repeat: int) -> None:
        if not _topic_level(pole_code):
            raise GatewayRejected(f"the pole code {pole_code!r} cannot be an MQTT topic level")
        if self._down is not None:
            raise GatewayUnavailable(self._down)
        if self._publisher is None:
            client = self._client(f"{self.prefix}-send-{uuid.uuid4().hex[:12]}")
            try:
                self._open(client)
            except GatewayUnavailable as exc:
                self._down = str(exc)
                raise
            self._publisher = client
        payload = json.dumps(
            {
                "delivery": delivery_id,
                "pole": pole_code,
                "message": message,
                "repeat": repeat,
                "sent_at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        info = self._publisher.publish(self.broadcast_topic(pole_code), payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise self._unavailable(f"publishing failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(self.timeout)
        except (RuntimeError, ValueError) as exc:
            raise self._unavailable(f"publishing failed: {exc}") from exc
        if not info.is_published():
            raise self._unavailable(f"no PUBACK from the broker within {self.timeout:g} s")

    # --- acknowledgements ------------------------------------------------------------------

    def collect_acknowledgements(self) -> list[Acknowledgement]:
        messages: list[mqtt.MQTTMessage] = []
        lock = threading.Lock()
        subscribed = threading.Event()
        last = [time.monotonic()]

        def on_message(client, userdata, message):
            with lock:
                messages.append(message)
                last[0] = time.monotonic()

        client = self._client(self.ack_client_id, persistent=True)
        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        self._open(client, persistent=True)
        self._collector = client
        client.subscribe(self.ack_topic, qos=1)
        if not subscribed.wait(self.timeout):
            raise self._unavailable("no SUBACK from the MQTT broker")
        started = time.monotonic()
        while time.monotonic() - started < ACK_MAX_SECONDS:
            with lock:
                quiet = time.monotonic() - last[0]
            if quiet >= ACK_QUIET_SECONDS:
                break
            time.sleep(ACK_QUIET_SECONDS - quiet)
        with lock:
            received = list(messages)
        acks = []
        for message in received:
            self._collected.append(message.mid)
            ack = self._parse_ack(message)
            if ack is not None:
                acks.append(ack)
        return acks

    def _parse_ack(self, message: mqtt.MQTTMessage) -> Acknowledgement | None:
        try:
            body = limits.load_json(message.payload)
        except ValueError:  # not UTF-8, not JSON, nested too deep
            body = None
        delivery = body.get("delivery") if isinstance(body, dict) else None
        at = _parse_time(body.get("at")) if isinstance(body, dict) else None
        if not isinstance(delivery, int) or isinstance(delivery, bool) or at is None:
            # Answering it anyway: the broker would hand a kept bad message over forever.
            log.warning(
                "ignoring a malformed acknowledgement on %s: %r", message.topic, message.payload
            )
            return None
        # The topic is {prefix}/poles/{code}/ack: the pole that answered.
        parts = message.topic.split("/")
        return (delivery, at, parts[-2]) if len(parts) >= 3 else (delivery, at)

    def confirm_acknowledgements(self) -> None:
        """The collected acknowledgements are recorded: the broker may forget them."""
        if self._collector is None:
            return
        for mid in self._collected:
            self._collector.ack(mid, 1)
        self._close(self._collector)
        self._collector = None
        self._collected = []


ADAPTERS: dict[str, type] = {"log": LogGateway, "mqtt": MQTTGateway}


def get_gateway() -> Gateway:
    """The adapter GRIDLINE_BROADCAST_GATEWAY names."""
    name = settings.GRIDLINE_BROADCAST_GATEWAY
    try:
        adapter = ADAPTERS[name]
    except KeyError as exc:
        raise ImproperlyConfigured(
            f"GRIDLINE_BROADCAST_GATEWAY is one of {sorted(ADAPTERS)}, not {name!r}"
        ) from exc
    return adapter()
