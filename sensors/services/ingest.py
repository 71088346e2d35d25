"""Bulk ingest of heartbeats and readings, from a gateway (for the devices it carries) or a
device (for itself).

The body::

    {"readings":   [{"sensor": "<code>", "at": "2025-05-01T08:00:00+08:00", "values": {...}}],
     "heartbeats": [{"sensor": "<code>", "at": "...", "status": "online" | "fault"}]}

Bad rows (decision for issue #6): a batch with some bad rows is *not* refused whole. Its
good rows are stored and every bad one is listed with its index in its list, its kind
(reading or heartbeat), the sensor code, the field and the reason, so that a gateway that
buffered an hour of data does not lose it for one broken device, and knows exactly which
rows to drop or fix. The reasons:

- ``unknown_sensor``: no such device, or one the token may not speak for (another gateway's
  device, another district's, another device's own token);
- ``required`` / ``not_an_object``: a missing field, a row or `values` that is not an object;
- ``invalid_time``: `at` is not an ISO-8601 time with its UTC offset;
- ``future``: `at` is more than GRIDLINE_READINGS_FUTURE_SECONDS ahead of the server;
- ``too_old``: `at` is older than the retention period (GRIDLINE_READINGS_RETENTION_DAYS);
- ``schema_*``: `values` break the type's readings schema (one entry per violation);
- ``invalid_status``: a heartbeat's status is neither online nor fault;
- ``duplicate_in_batch``: the same (sensor, at) reading twice in one batch.

Refused whole (HTTP 400, nothing written): a body that is not an object, `readings` or
`heartbeats` that are not lists, an unknown top-level key, more than
GRIDLINE_INGEST_MAX_ROWS rows; and a batch whose every row is bad.

Idempotent per (sensor, at): a resent reading is counted in `duplicates` and stored once.
Every reading is also a heartbeat. For each device of the batch, in one UPDATE: the last
heartbeat is the latest time seen; an offline device that speaks comes back online (its
OFFLINE alert ends), a heartbeat with status fault sets fault (a FAULT alert opens) and one
with status online clears it; a device in maintenance keeps that status; the newest reading
becomes `latest` only when it is newer than the stored one (a late reading does not
overwrite it). A water tank whose newest level is below GRIDLINE_TANK_LOW_PCT opens a
LOW_LEVEL alert, which ends when the level is back. The number of queries per batch does
not depend on its size.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import limits
from grids.problems import Problem, ProblemsError
from grids.signals import announce
from sensors.models import AlertKind, Gateway, Role, Sensor, SensorType, Status
from sensors.services import live, readings
from sensors.services.registry import schema_problems, spoken_for_q
from sensors.sql import readings as sql

KINDS = ("readings", "heartbeats")
HEARTBEAT_STATUSES = (Status.ONLINE, Status.FAULT)
NO_PARTITION = "23514"  # check_violation: "no partition of relation ... found for row"


@dataclass(frozen=True)
class Rejection:
    """One bad row's reason (a row may have several)."""

    index: int
    kind: str  # "reading" | "heartbeat"
    sensor: str | None
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "kind": self.kind,
            "sensor": self.sensor,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }

    def as_problem(self) -> Problem:
        return Problem(
            self.code,
            self.message,
            row=self.index,
            field=f"{self.kind}s.{self.field}" if self.field else f"{self.kind}s",
            feature=self.sensor,
        )


@dataclass
class IngestResult:
    readings: int = 0  # newly stored
    heartbeats: int = 0  # accepted heartbeat rows
    duplicates: int = 0  # readings stored before (resent)
    rejected: list[Rejection] = field(default_factory=list)
    online: int = 0  # devices that came back online
    alerts_opened: int = 0
    alerts_closed: int = 0

    def as_dict(self) -> dict:
        return {
            "accepted": {"readings": self.readings, "heartbeats": self.heartbeats},
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
        }


@dataclass(frozen=True)
class _Device:
    id: int
    type_id: int
    role: str


@dataclass
class _Good:
    readings: list[tuple[int, dt.datetime, dict]] = field(default_factory=list)
    # (sensor id, at, explicit status or None)
    heartbeats: list[tuple[int, dt.datetime, str | None]] = field(default_factory=list)


def _has_nul(value) -> bool:
    # The request limits' rule (NUL and unpaired surrogates), applied row by row here: the
    # ingest endpoint's parser leaves strings to this check (grids.api.parsers.RowsJSONParser).
    return limits.bad_text_in(value) is not None


def _malformed(code: str, message: str, field: str | None = None) -> ProblemsError:
    return ProblemsError([Problem(code, message, field=field)])


def _rows(payload) -> tuple[list, list]:
    if not isinstance(payload, dict):
        raise _malformed("not_an_object", _("the body is a JSON object"))
    unknown = sorted(set(payload) - set(KINDS))
    if unknown:
        raise _malformed(
            "unknown_field", _("unknown field; the body has readings and heartbeats"), unknown[0]
        )
    lists = []
    for kind in KINDS:
        rows = payload.get(kind, [])
        if not isinstance(rows, list):
            raise _malformed("not_a_list", _("a list of rows is expected"), kind)
        lists.append(rows)
    total = sum(len(rows) for rows in lists)
    if total > settings.GRIDLINE_INGEST_MAX_ROWS:
        raise _malformed(
            "too_many_rows",
            _("%(count)d rows: at most %(max)d per request")
            % {"count": total, "max": settings.GRIDLINE_INGEST_MAX_ROWS},
        )
    return lists[0], lists[1]


def _devices(holder: Gateway | Sensor, codes: set[str]) -> dict[str, _Device]:
    """The devices among `codes` the holder may speak for (the rule of
    registry.sensors_of), read as plain values: a batch of a thousand need not build a
    thousand models with their geometries."""
    if isinstance(holder, Sensor):
        if holder.code not in codes:
            return {}
        return {holder.code: _Device(holder.pk, holder.type_id, holder.role)}
    rows = Sensor.objects.filter(spoken_for_q(holder), code__in=codes).values_list(
        "code", "id", "type_id", "role"
    )
    return {code: _Device(pk, type_id, role) for code, pk, type_id, role in rows}


# --- a quick yes for the usual flat readings schemas ----------------------------------------

_ANNOTATIONS = {"description", "title", "$comment"}
_TOP = {"type", "properties", "required", "additionalProperties"} | _ANNOTATIONS
_PROPERTY = {
    "type",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
} | _ANNOTATIONS
_BOUNDS = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fast_property(schema) -> Callable[[object], bool] | None:
    if not isinstance(schema, dict) or set(schema) - _PROPERTY:
        return None
    kind = schema.get("type")
    bounds = [(_BOUNDS[k], b) for k, b in schema.items() if k in _BOUNDS]
    if not all(_is_number(b) for _op, b in bounds):
        return None
    lengths = (schema.get("minLength", 0), schema.get("maxLength"))
    if kind == "number":
        return lambda v: _is_number(v) and all(op(v, b) for op, b in bounds)
    if kind == "integer":
        return lambda v: type(v) is int and all(op(v, b) for op, b in bounds)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "string":
        return lambda v: (
            isinstance(v, str)
            and len(v) >= lengths[0]
            and (lengths[1] is None or len(v) <= lengths[1])
        )
    return None


def fast_check(schema) -> Callable[[object], bool] | None:
    """For a flat object schema of numbers, integers, booleans and strings (every built-in
    readings schema): a check that answers True only for values certainly valid. Anything
    else, and every other schema, goes to the full JSON Schema validator, which also names
    the problems. A thousand readings are checked in about a millisecond instead of 150."""
    if not isinstance(schema, dict) or set(schema) - _TOP or schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    additional = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(required, list):
        return None
    if additional is not True and additional is not False:
        return None
    checks = {}
    for name, sub in properties.items():
        check = _fast_property(sub)
        if check is None:
            return None
        checks[name] = check

    def valid(values) -> bool:
        if not isinstance(values, dict) or any(name not in values for name in required):
            return False
        for key, value in values.items():
            check = checks.get(key)
            if check is None:
                if not additional:
                    return False
            elif not check(value):
                return False
        return True

    return valid


class _Checker:
    """Checks rows one by one, collecting rejections."""

    def __init__(self, devices: dict[str, _Device], types: dict[int, SensorType], now):
        self.devices = devices
        self.types = types
        self.now = now
        self.latest_allowed = now + dt.timedelta(seconds=settings.GRIDLINE_READINGS_FUTURE_SECONDS)
        self.oldest_allowed = readings.retention_start(now)
        self.rejected: list[Rejection] = []
        self.fast = {pk: fast_check(t.readings_schema) for pk, t in types.items()}

    def reject(self, index, kind, sensor, field, code, message) -> None:
        self.rejected.append(Rejection(index, kind, sensor, field, code, message))

    def common(self, index: int, kind: str, row) -> tuple[_Device | None, dt.datetime | None]:
        """The device and time of a row, or None where they are bad (and rejected)."""
        if not isinstance(row, dict):
            self.reject(index, kind, None, "", "not_an_object", _("a row is a JSON object"))
            return None, None
        code = row.get("sensor")
        sensor_code = code if isinstance(code, str) else None
        device = self.devices.get(code) if isinstance(code, str) else None
        if code is None:
            self.reject(index, kind, None, "sensor", "required", _("the sensor code is required"))
        elif device is None:
            self.reject(
                index,
                kind,
                sensor_code,
                "sensor",
                "unknown_sensor",
                _("no device with this code that this token may report for"),
            )
        return device, self._time(index, kind, sensor_code, row.get("at"))

    def _time(self, index, kind, code, value) -> dt.datetime | None:
        at = None
        if isinstance(value, str):
            try:
                at = dt.datetime.fromisoformat(value)
            except ValueError:
                at = None
        if at is None or at.tzinfo is None:
            self.reject(
                index,
                kind,
                code,
                "at",
                "invalid_time",
                _(
                    "an ISO-8601 time with its UTC offset is expected, "
                    "e.g. 2025-05-01T08:00:00+08:00"
                ),
            )
            return None
        if at > self.latest_allowed:
            self.reject(
                index,
                kind,
                code,
                "at",
                "future",
                _("the time is more than %(seconds)d seconds ahead of the server's clock")
                % {"seconds": settings.GRIDLINE_READINGS_FUTURE_SECONDS},
            )
            return None
        if at < self.oldest_allowed:
            self.reject(
                index,
                kind,
                code,
                "at",
                "too_old",
                _("the time is older than the %(days)d days readings are kept")
                % {"days": settings.GRIDLINE_READINGS_RETENTION_DAYS},
            )
            return None
        return at

    def readings(self, rows: list, good: _Good) -> None:
        seen: set[tuple[int, dt.datetime]] = set()
        for index, row in enumerate(rows):
            device, at = self.common(index, "reading", row)
            if not isinstance(row, dict):
                continue
            code = row.get("sensor") if isinstance(row.get("sensor"), str) else None
            ok = device is not None and at is not None
            values = row.get("values")
            if "values" not in row:
                self.reject(index, "reading", code, "values", "required", _("values are required"))
                ok = False
            elif device is not None:
                fast = self.fast[device.type_id]
                problems = (
                    []
                    if fast is not None and fast(values)
                    else schema_problems(
                        self.types[device.type_id], values, which="readings_schema", field="values"
                    )
                )
                for problem in problems:
                    self.reject(
                        index, "reading", code, problem.field, problem.code, problem.message
                    )
                ok = ok and not problems
            if ok and _has_nul(values):
                # PostgreSQL's jsonb refuses U+0000: one such row would fail the whole batch.
                self.reject(
                    index,
                    "reading",
                    code,
                    "values",
                    "invalid_text",
                    _("text values may not contain the NUL character"),
                )
                ok = False
            if not ok:
                continue
            key = (device.id, at)
            if key in seen:
                self.reject(
                    index,
                    "reading",
                    code,
                    "at",
                    "duplicate_in_batch",
                    _("this device's reading at this time is in the batch already"),
                )
                continue
            seen.add(key)
            good.readings.append((device.id, at, values))

    def heartbeats(self, rows: list, good: _Good) -> None:
        for index, row in enumerate(rows):
            device, at = self.common(index, "heartbeat", row)
            if not isinstance(row, dict):
                continue
            status = row.get("status")
            if status is not None and status not in HEARTBEAT_STATUSES:
                code = row.get("sensor") if isinstance(row.get("sensor"), str) else None
                self.reject(
                    index,
                    "heartbeat",
                    code,
                    "status",
                    "invalid_status",
                    _("a heartbeat's status is online or fault"),
                )
                continue
            if device is not None and at is not None:
                good.heartbeats.append((device.id, at, status))


def ingest(holder: Gateway | Sensor, payload, *, now: dt.datetime | None = None) -> IngestResult:
    """Store a batch of readings and heartbeats from `holder` (see the module's docstring).
    Raises ProblemsError (nothing written) for a malformed body or when every row is bad."""
    now = now or timezone.now()
    reading_rows, heartbeat_rows = _rows(payload)
    # A code with a NUL character names no device (PostgreSQL text cannot hold one, and the
    # lookup would fail): its row is rejected as an unknown sensor like any other.
    codes = {
        row["sensor"]
        for row in (*reading_rows, *heartbeat_rows)
        if isinstance(row, dict)
        and isinstance(row.get("sensor"), str)
        and "\x00" not in row["sensor"]
    }
    devices = _devices(holder, codes) if codes else {}
    types = SensorType.objects.in_bulk({d.type_id for d in devices.values()}) if devices else {}
    checker = _Checker(devices, types, now)
    good = _Good()
    checker.readings(reading_rows, good)
    checker.heartbeats(heartbeat_rows, good)
    result = IngestResult(heartbeats=len(good.heartbeats), rejected=checker.rejected)
    if checker.rejected and not (good.readings or good.heartbeats):
        raise ProblemsError([r.as_problem() for r in checker.rejected])

    good.readings.sort(key=lambda r: (r[0], r[1]))
    months = {readings.month_of(at) for _id, at, _v in good.readings}
    readings.ensure_for(months)
    try:
        _write(holder, good, devices, types, now, result)
    except IntegrityError as exc:
        # A partition this process believed in is gone (dropped by the nightly job in
        # another process, or made in a transaction that rolled back): ask the catalogue
        # again and write the batch once more.
        if getattr(exc.__cause__, "sqlstate", None) != NO_PARTITION:
            raise
        readings.forget_partitions()
        readings.ensure_for(months)
        result.readings = result.duplicates = result.online = 0
        result.alerts_opened = result.alerts_closed = 0
        _write(holder, good, devices, types, now, result)
    return result


def _write(holder, good: _Good, devices, types, now, result: IngestResult) -> None:
    roles = {d.id: (d.type_id, d.role) for d in devices.values()}
    with transaction.atomic():
        ids = sorted({r[0] for r in good.readings} | {h[0] for h in good.heartbeats})
        if ids:
            before = {row[0]: row[1:] for row in sql.lock_sensors(ids)}
            inserted = 0
            # Each reading's values as JSON text once: stored, and the newest as `latest`.
            texts = [json.dumps(r[2], ensure_ascii=False) for r in good.readings]
            if good.readings:
                inserted = sql.insert_readings(
                    [r[0] for r in good.readings], [r[1] for r in good.readings], texts, now
                )
            result.readings = inserted
            result.duplicates = len(good.readings) - inserted
            _update_devices(good, texts, before, roles, types, now, result)
        if isinstance(holder, Gateway):
            Gateway.objects.filter(pk=holder.pk).update(last_seen_at=now)


def _update_devices(good, texts, before, roles, types, now, result: IngestResult) -> None:
    seen: dict[int, dt.datetime] = {}
    newest: dict[int, tuple[dt.datetime, dict, str]] = {}
    stated: dict[int, tuple[dt.datetime, str]] = {}
    for (sensor_id, at, values), text in zip(good.readings, texts, strict=True):
        if sensor_id not in seen or at > seen[sensor_id]:
            seen[sensor_id] = at
        # A resent reading never replaces `latest`: it was stored by a batch that held this
        # device's lock and set `latest_at` to it or later, and only a newer one replaces it.
        if sensor_id not in newest or at > newest[sensor_id][0]:
            newest[sensor_id] = (at, values, text)
    for sensor_id, at, status in good.heartbeats:
        if sensor_id not in seen or at > seen[sensor_id]:
            seen[sensor_id] = at
        if status is not None and (sensor_id not in stated or at >= stated[sensor_id][0]):
            stated[sensor_id] = (at, status)

    ids, seen_at, statuses, latest, latest_at = [], [], [], [], []
    close: list[tuple[int, str]] = []
    open_: list[tuple[int, str, dt.datetime, str]] = []
    low = settings.GRIDLINE_TANK_LOW_PCT
    for sensor_id, (status, last_seen_at, old_latest_at) in before.items():
        type_id, role = roles[sensor_id]
        last = max(filter(None, (last_seen_at, seen[sensor_id])))
        new = status
        if status != Status.MAINTENANCE:
            said = stated.get(sensor_id)
            if said and (last_seen_at is None or said[0] >= last_seen_at):
                new = said[1]
            elif status == Status.OFFLINE and last >= now - types[type_id].silence:
                new = Status.ONLINE
        if status == Status.OFFLINE and new != Status.OFFLINE:
            close.append((sensor_id, AlertKind.OFFLINE))
            result.online += new == Status.ONLINE
        if new == Status.FAULT and status != Status.FAULT:
            open_.append((sensor_id, AlertKind.FAULT, stated[sensor_id][0], "{}"))
        elif status == Status.FAULT and new == Status.ONLINE:
            close.append((sensor_id, AlertKind.FAULT))
        values = text = None
        if sensor_id in newest and (old_latest_at is None or newest[sensor_id][0] > old_latest_at):
            at, values, text = newest[sensor_id]
            level = values.get("level_pct")
            if role == Role.WATER_TANK and isinstance(level, int | float):
                if level < low:
                    details = json.dumps({"level_pct": level, "threshold_pct": low})
                    open_.append((sensor_id, AlertKind.LOW_LEVEL, at, details))
                else:
                    close.append((sensor_id, AlertKind.LOW_LEVEL))
        ids.append(sensor_id)
        seen_at.append(last)
        statuses.append(new)
        latest.append(text)
        latest_at.append(None if values is None else newest[sensor_id][0])
    sql.update_sensors(ids, seen_at, statuses, latest, latest_at)
    if close or open_:
        result.alerts_closed, result.alerts_opened = sql.change_alerts(now, close, open_)
        live.bulk_alerts(now, close, open_)
    changed = [i for i, s in zip(ids, statuses, strict=True) if s != before[i][0]]
    if changed:
        # The map's sensor layers colour devices by status.
        announce(Sensor)
        live.statuses(changed)
