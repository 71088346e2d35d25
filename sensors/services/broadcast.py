"""One-key dispatch (一键调度): a message broadcast to chosen voice poles, one delivery each.

A delivery is *queued* when the broadcast is made, *sent* once the gateway took it,
*acknowledged* when the pole confirms it played it, or *failed* when the gateway refused it
for good or the last of GRIDLINE_BROADCAST_MAX_ATTEMPTS tries found the gateway unavailable.
A gateway that is down loses nothing: its deliveries stay queued with the next attempt set
by a growing back-off, and the every-minute job sends them when it is back. Failed
deliveries are put back in the queue by hand (`retry_failed`).

Delivery is at least once: a delivery whose sending succeeded but whose row could not be
written is sent again, and the pole plays it once by its delivery id.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Role as UserRole
from grids.problems import Problem, ProblemsError
from incidents.models import Incident
from sensors.gateways import Gateway, GatewayRejected, GatewayUnavailable, get_gateway
from sensors.models import Broadcast, Delivery, DeliveryState, Role, Sensor
from sensors.models import Gateway as GatewayModel
from sensors.services.registry import spoken_for_q

log = logging.getLogger("gridline.broadcast")

MAX_MESSAGE = 500
REPEAT_RANGE = (1, 10)
# Seconds to wait after the n-th failed attempt; the last value repeats.
BACKOFF_SECONDS = (15, 30, 60, 120, 300, 600)
# Deliveries locked and sent per transaction, so a long broadcast holds few rows at a time.
BATCH = 200
# Staff above the grid worker broadcast: the command centres, community staff, departments
# (fire brigade, forestry) and administrators. A grid worker asks their centre to.
BROADCASTER_ROLES = frozenset(
    {
        UserRole.COMMUNITY_STAFF,
        UserRole.STREET_CENTRE,
        UserRole.DISTRICT_CENTRE,
        UserRole.DEPARTMENT,
        UserRole.ADMINISTRATOR,
    }
)


class BroadcastRefused(ProblemsError):
    """The user may not broadcast (answered 403)."""

    status_code = 403

    def __init__(self):
        super().__init__([Problem("not_allowed", _("Your role may not broadcast to voice poles."))])


def may_broadcast(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or getattr(user, "role", "") in BROADCASTER_ROLES)
    )


def visible_broadcasts(user) -> QuerySet[Broadcast]:
    """Broadcasts reaching a pole of the user's district, and the user's own; all of them
    for administrators."""
    if not (user.is_authenticated and user.is_active):
        return Broadcast.objects.none()
    if scoping.sees_everything(user):
        return Broadcast.objects.all()
    district = scoping.user_district(user)
    in_district = Exists(Delivery.objects.filter(broadcast=OuterRef("pk"), pole__district=district))
    return Broadcast.objects.filter(Q(created_by=user.pk) | in_district)


def with_counts(broadcasts: QuerySet[Broadcast]) -> QuerySet[Broadcast]:
    """Each broadcast with its number of deliveries in every state (`n_queued`, ...)."""
    return broadcasts.annotate(
        **{
            f"n_{state}": Count("deliveries", filter=Q(deliveries__state=state))
            for state in DeliveryState.values
        }
    )


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try, after `attempts` failed ones."""
    return dt.timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


# --- making a broadcast --------------------------------------------------------------------


def _poles_for(user, pole_ids: Sequence[int]) -> tuple[list[Sensor], list[Problem]]:
    ids = list(dict.fromkeys(pole_ids))
    sensors = Sensor.objects.filter(pk__in=ids)
    if not scoping.sees_everything(user):
        sensors = sensors.filter(district=scoping.user_district(user))
    found = {sensor.pk: sensor for sensor in sensors.only("pk", "role", "code")}
    # Every voice pole of the district may be chosen (a warning crosses streets); any other
    # device the user cannot see is answered as if it did not exist, never by its code.
    seen = set(Sensor.objects.visible_to(user).filter(pk__in=found).values_list("pk", flat=True))
    problems = []
    for pk in ids:
        sensor = found.get(pk)
        if sensor is not None and sensor.role != Role.VOICE_POLE and pk not in seen:
            sensor = None
        if sensor is None:
            problems.append(
                Problem(
                    "unknown_pole",
                    _("There is no sensor %(id)s in your district.") % {"id": pk},
                    field="poles",
                    feature=str(pk),
                )
            )
        elif sensor.role != Role.VOICE_POLE:
            problems.append(
                Problem(
                    "not_a_voice_pole",
                    _("Sensor %(code)s is not a voice pole.") % {"code": sensor.code},
                    field="poles",
                    feature=str(pk),
                )
            )
    return [found[pk] for pk in ids if pk in found], problems


def create_broadcast(
    *,
    user,
    message: str,
    pole_ids: Sequence[int],
    repeat: int = 2,
    point: Point | None = None,
    incident: Incident | int | None = None,
) -> Broadcast:
    """Queue a message for each chosen voice pole of the user's district; sending starts
    once the transaction is committed (the `deliver_broadcast` job)."""
    if not may_broadcast(user):
        raise BroadcastRefused()
    problems: list[Problem] = []
    message = (message or "").strip()
    if not message:
        problems.append(Problem("required", _("A message is required."), field="message"))
    elif len(message) > MAX_MESSAGE:
        problems.append(
            Problem(
                "too_long",
                _("A message has at most %(n)d characters.") % {"n": MAX_MESSAGE},
                field="message",
            )
        )
    low, high = REPEAT_RANGE
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not low <= repeat <= high:
        problems.append(
            Problem(
                "invalid_repeat",
                _("A message is played %(low)d to %(high)d times.") % {"low": low, "high": high},
                field="repeat",
            )
        )
    poles: list[Sensor] = []
    if not pole_ids:
        problems.append(Problem("required", _("Choose at least one voice pole."), field="poles"))
    else:
        poles, pole_problems = _poles_for(user, pole_ids)
        problems += pole_problems
    if point is not None and point.srid != 4326:
        problems.append(Problem("invalid_point", _("The point is in WGS84."), field="point"))
    if incident is not None and not isinstance(incident, Incident):
        found = Incident.objects.visible_to(user).filter(pk=incident).first()
        if found is None:
            problems.append(
                Problem(
                    "unknown_incident",
                    _("There is no incident %(id)s you may see.") % {"id": incident},
                    field="incident",
                )
            )
        incident = found
    if problems:
        raise ProblemsError(problems)
    now = timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            message=message,
            repeat=repeat,
            point=point,
            incident=incident,
            adapter=settings.GRIDLINE_BROADCAST_GATEWAY,
            created_by=user,
        )
        # Due at once: should the job below be lost, the every-minute retry sends them.
        Delivery.objects.bulk_create(
            Delivery(broadcast=broadcast, pole=pole, next_attempt_at=now) for pole in poles
        )
        _deliver_after_commit(broadcast.pk)
    log.info("broadcast %d by %s to %d poles queued", broadcast.pk, user.get_username(), len(poles))
    return broadcast


def _deliver_after_commit(broadcast_id: int) -> None:
    from sensors.jobs import deliver_broadcast

    # robust: the broadcast is committed and its deliveries are due, so a queue that cannot
    # take the job is logged and the every-minute retry sends them instead.
    transaction.on_commit(lambda: deliver_broadcast.defer(broadcast_id=broadcast_id), robust=True)


def retry_failed(broadcast: Broadcast, user) -> int:
    """Put the broadcast's failed deliveries back in the queue, with a fresh set of tries."""
    if not may_broadcast(user):
        raise BroadcastRefused()
    with transaction.atomic():
        again = Delivery.objects.filter(broadcast=broadcast, state=DeliveryState.FAILED).update(
            state=DeliveryState.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if again:
            _deliver_after_commit(broadcast.pk)
    return again


# --- sending -------------------------------------------------------------------------------


def _due(now: dt.datetime) -> QuerySet[Delivery]:
    return Delivery.objects.filter(state=DeliveryState.QUEUED, next_attempt_at__lte=now)


def deliver(broadcast_id: int) -> int:
    """Send the broadcast's queued deliveries that are due. Returns how many were sent."""
    return _send_due(lambda now: _due(now).filter(broadcast=broadcast_id))


def retry_due() -> int:
    """Send every queued delivery whose next attempt has come (the every-minute job)."""
    return _send_due(_due)


def _send_due(due) -> int:
    sent = 0
    with get_gateway() as gateway:
        while True:
            done, tried = _send_batch(gateway, due)
            sent += done
            if tried < BATCH:
                return sent


def _send_batch(gateway: Gateway, due) -> tuple[int, int]:
    """Lock a batch of due deliveries (rows another worker holds are skipped, so no delivery
    is sent twice at once), send each and record how it went, in one transaction."""
    max_attempts = settings.GRIDLINE_BROADCAST_MAX_ATTEMPTS
    with transaction.atomic():
        now = timezone.now()
        batch = list(
            due(now)
            .select_related("broadcast", "pole")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "pk")[:BATCH]
        )
        sent = 0
        for delivery in batch:
            broadcast = delivery.broadcast
            delivery.attempts += 1
            try:
                gateway.send(delivery.pk, delivery.pole.code, broadcast.message, broadcast.repeat)
            except GatewayRejected as exc:
                delivery.state = DeliveryState.FAILED
                delivery.last_error = str(exc)
                delivery.next_attempt_at = None
                log.warning("broadcast delivery %d refused: %s", delivery.pk, exc)
            except Exception as exc:
                if not isinstance(exc, GatewayUnavailable):
                    # An adapter's own bug must not roll the batch back: the deliveries the
                    # broker already took would be sent again every minute. It is logged with
                    # its traceback and retried like an outage.
                    log.exception("broadcast delivery %d: the gateway adapter failed", delivery.pk)
                delivery.last_error = str(exc) or exc.__class__.__name__
                if delivery.attempts >= max_attempts:
                    delivery.state = DeliveryState.FAILED
                    delivery.next_attempt_at = None
                    log.warning(
                        "broadcast delivery %d failed after %d attempts: %s",
                        delivery.pk,
                        delivery.attempts,
                        exc,
                    )
                else:
                    delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
            else:
                delivery.state = DeliveryState.SENT
                delivery.sent_at = timezone.now()
                delivery.next_attempt_at = None
                delivery.last_error = ""
                sent += 1
            delivery.updated_at = timezone.now()
        Delivery.objects.bulk_update(
            batch,
            ["state", "attempts", "last_error", "next_attempt_at", "sent_at", "updated_at"],
        )
    unavailable = sum(1 for d in batch if d.state == DeliveryState.QUEUED)
    if unavailable:
        log.warning("broadcast: gateway unavailable, %d deliveries wait to be retried", unavailable)
    return sent, len(batch)


# --- acknowledgements ----------------------------------------------------------------------


def collect_acknowledgements() -> int:
    """Read the poles' acknowledgements from the gateway and record them; the gateway is
    told they are recorded only after the commit, so none is lost on the way."""
    with get_gateway() as gateway:
        acks = gateway.collect_acknowledgements()
        marked = _record(acks)
        gateway.confirm_acknowledgements()
    return marked


def _record(acks: Iterable[tuple]) -> int:
    first: dict[int, dt.datetime] = {}
    pole_of: dict[int, str] = {}
    for delivery_id, at, *pole in acks:
        first.setdefault(delivery_id, at)
        if pole:
            pole_of.setdefault(delivery_id, pole[0])
    if not first:
        return 0
    now = timezone.now()
    with transaction.atomic():
        deliveries = {
            d.pk: d
            for d in Delivery.objects.select_related("pole")
            .select_for_update(of=("self",))
            .filter(pk__in=list(first))
        }
        changed = []
        for delivery_id, at in first.items():
            delivery = deliveries.get(delivery_id)
            if delivery is None:
                log.warning("acknowledgement for unknown delivery %d ignored", delivery_id)
                continue
            if delivery_id in pole_of and pole_of[delivery_id] != delivery.pole.code:
                # Only the pole a message went to may confirm it has played.
                log.warning(
                    "acknowledgement for delivery %d from pole %r, not %r: ignored",
                    delivery_id,
                    pole_of[delivery_id],
                    delivery.pole.code,
                )
                continue
            if not _acknowledgeable(delivery):
                log.warning("acknowledgement for delivery %d never sent ignored", delivery_id)
                continue
            if delivery.state == DeliveryState.ACKNOWLEDGED:
                continue
            _mark_acknowledged(delivery, at, now)
            changed.append(delivery)
        Delivery.objects.bulk_update(changed, ACKNOWLEDGED_FIELDS)
    return len(changed)


def _acknowledgeable(delivery: Delivery) -> bool:
    """A pole can only have played what was tried at least once: a try whose answer was
    lost may still have reached it, so queued and failed deliveries with a try count too."""
    return delivery.attempts > 0 or delivery.sent_at is not None


# What _mark_acknowledged sets: the fields its callers write.
ACKNOWLEDGED_FIELDS = ["state", "acknowledged_at", "sent_at", "next_attempt_at", "updated_at"]


def _mark_acknowledged(delivery: Delivery, at: dt.datetime, now: dt.datetime) -> None:
    # A pole's clock ahead of ours does not put the acknowledgement in the future.
    at = min(at, now)
    delivery.state = DeliveryState.ACKNOWLEDGED
    delivery.acknowledged_at = at
    delivery.sent_at = delivery.sent_at or at
    delivery.next_attempt_at = None
    delivery.updated_at = now


class AcknowledgementRefused(ProblemsError):
    def __init__(self, code: str, message: str, status: int):
        super().__init__([Problem(code, message, field="delivery")])
        self.status_code = status


def acknowledge(delivery_id: int, at: dt.datetime | None, gateway: GatewayModel) -> Delivery:
    """A gateway confirms over HTTP that its pole played a delivery. Answers 404 for a
    delivery to a pole the gateway does not speak for, 409 for one never sent; a repeat
    keeps the first acknowledgement."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("pole")
            .filter(spoken_for_q(gateway, prefix="pole__"), pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise AcknowledgementRefused(
                "unknown_delivery",
                _("There is no delivery %(id)s to a pole of this gateway.") % {"id": delivery_id},
                404,
            )
        if not _acknowledgeable(delivery):
            raise AcknowledgementRefused(
                "not_sent", _("Delivery %(id)s was never sent.") % {"id": delivery_id}, 409
            )
        if delivery.state != DeliveryState.ACKNOWLEDGED:
            _mark_acknowledged(delivery, at or now, now)
            delivery.save(update_fields=ACKNOWLEDGED_FIELDS)
    return delivery
