"""The phone's outbox, applied on the server (issue #18): one item per request, in the
phone's order, each in ONE transaction that also writes its OutboxReceipt.

Why the receipt is written first: its unique client key is the item's lock. A second copy of
the same item (a resend after a lost answer, or the same item sent twice at once by an
interrupted sync) waits on that insert until the first commits, then finds the receipt and
answers it (200, resent), so nothing is written twice for any kind, including edits that
have no client key of their own (a household update, a ledger save). When the first copy is
refused or conflicts, its transaction rolls back with the receipt, and the phone may fix the
item and send it again under the same key.

Server time wins: every record's time is the server's (`Context.now`); the phone's clock is
kept on the receipt as `client_time`, however wrong, and never used as a record's time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _
from rest_framework.utils.encoders import JSONEncoder

from field.models import OutboxReceipt
from field.services.kinds import KINDS, Conflict, Context, refused

ITEM_FIELDS = {"client_key", "kind", "target", "base_version", "client_time", "data"}


@dataclass(frozen=True)
class Item:
    client_key: uuid.UUID
    kind: str
    target: int | str | None
    base_version: str | None
    client_time: dt.datetime | None
    data: dict


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def read_item(raw) -> Item:
    """The item as the phone sent it, each wrong member named (400)."""
    if not isinstance(raw, dict):
        raise refused("invalid", _("an outbox item is a JSON object"), "item")
    unknown = sorted(set(raw) - ITEM_FIELDS)
    if unknown:
        raise refused(
            "unknown_field",
            _("unknown members: %(names)s") % {"names": ", ".join(unknown)},
            unknown[0],
        )
    try:
        client_key = uuid.UUID(str(raw.get("client_key") or ""))
    except ValueError:
        raise refused(
            "invalid", _("client_key is the UUID the phone made for the item"), "client_key"
        ) from None
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise refused(
            "unknown_kind",
            _("unknown kind of item; the kinds are: %(kinds)s") % {"kinds": ", ".join(KINDS)},
            "kind",
        )
    target = raw.get("target")
    if target is not None and not isinstance(target, int | str) or isinstance(target, bool):
        raise refused("invalid", _("target is an id"), "target")
    base_version = raw.get("base_version")
    if base_version is not None and not isinstance(base_version, str | int):
        raise refused(
            "invalid", _("base_version is the version string of the record"), "base_version"
        )
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise refused("invalid", _("data is a JSON object"), "data")
    return Item(
        client_key=client_key,
        kind=kind,
        target=target,
        base_version=None if base_version is None else str(base_version),
        client_time=client_time(raw.get("client_time")),
        data=data,
    )


def client_time(value) -> dt.datetime | None:
    """The phone's clock when it made the item: kept as reported, however far off (a phone
    set to 2019 or to next year is common), never used as a record's time. Only a value that
    is no time at all is refused."""
    if value in (None, ""):
        return None
    try:
        moment = dateparse.parse_datetime(value) if isinstance(value, str) else None
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        if moment is not None:
            # Kept in UTC: PostgreSQL takes offsets up to ±15:59 only (ISO allows more), and a
            # year-1 time with an offset cannot be stored at all (OverflowError).
            moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise refused("invalid", _("client_time is an ISO 8601 date and time"), "client_time")
    return moment


def check_photos_size(kind: str, photos: list) -> None:
    """Before anything is read or written: photos only with kinds that take them, none over
    the size limit (413, as the body limit answers; the phone downscales before sending)."""
    if not photos:
        return
    if not KINDS[kind].photos:
        raise refused("photos_not_accepted", _("this kind of item takes no photos"), "photos")
    limit = settings.GRIDLINE_PHOTO_MAX_MB * 1024 * 1024
    for i, photo in enumerate(photos, 1):
        if photo.size > limit:
            raise refused(
                "photo_too_large",
                _("photo %(n)s: %(size)s MB is over the %(limit)s MB limit")
                % {
                    "n": i,
                    "size": f"{photo.size / 1048576:.1f}",
                    "limit": f"{settings.GRIDLINE_PHOTO_MAX_MB:g}",
                },
                "photos",
                status=413,
            )


def _plain(body: dict) -> dict:
    """The body as JSON gives it back (dates as ISO strings), so that the first answer and
    a resend read from the receipt are the same."""
    return json.loads(json.dumps(body, cls=JSONEncoder))


def _digest(item: Item, photos: list) -> str:
    """What an item says, to tell a resend (the same) from an edited item sent again under
    a key that was already applied (its answer lost on the way back)."""
    said = [item.kind, item.target, item.base_version, item.data, len(photos)]
    text = json.dumps(said, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _resent(receipt: OutboxReceipt, item: Item, user, photos: list) -> Answer:
    first = receipt.result.get("_digest")
    if (
        receipt.user_id != user.pk
        or receipt.kind != item.kind
        or (first is not None and first != _digest(item, photos))
    ):
        # Another user's key, or another item under a key already used: a refusal that
        # names nothing of the first item (a resend is the same item again). Answering the
        # first result would tell the phone its edit was applied when it was not.
        raise refused("key_conflict", _("this client key is already in use"), "client_key")
    body = {k: v for k, v in receipt.result.items() if not k.startswith("_")}
    return Answer(200, body | {"resent": True})


def push(raw, photos: list, *, user, device=None, request=None) -> Answer:
    """Apply one outbox item: 201 applied, 200 resent, 409 conflict (with the current
    record); refusals raise ProblemsError with their status (nothing is stored)."""
    item = read_item(raw)
    receipt = OutboxReceipt.objects.filter(client_key=item.client_key).first()
    if receipt is not None:
        return _resent(receipt, item, user, photos)
    check_photos_size(item.kind, photos)
    now = timezone.now()
    ctx = Context(
        user=user,
        device=device,
        request=request,
        client_key=item.client_key,
        kind=item.kind,
        target=item.target,
        base_version=item.base_version,
        data=item.data,
        photos=list(photos),
        now=now,
    )
    try:
        with transaction.atomic():
            receipt = OutboxReceipt.objects.create(
                client_key=item.client_key,
                user=user,
                device=device,
                kind=item.kind,
                status_code=201,
                client_time=item.client_time,
                received_at=now,
            )
            applied = KINDS[item.kind].apply(ctx)
            body = _plain(
                {
                    "client_key": str(item.client_key),
                    "kind": item.kind,
                    "status": "applied",
                    "resent": False,
                    "record": applied.record,
                    "set": applied.set,
                }
                | applied.extra
            )
            receipt.target_id = applied.target_id
            receipt.result = (
                body
                | {f"_{k}": v for k, v in _plain(applied.private).items()}
                | {"_digest": _digest(item, photos)}
            )
            receipt.save(update_fields=["target_id", "result"])
    except Conflict as conflict:
        return Answer(
            409,
            _plain(
                {
                    "status": 409,
                    "errors": [{"code": "conflict", "message": conflict.message, "field": None}],
                    "current": conflict.record,
                    "current_version": conflict.version,
                    "set": conflict.set,
                }
            ),
        )
    except IntegrityError:
        # The same key sent twice at once: the other copy committed first.
        receipt = OutboxReceipt.objects.filter(client_key=item.client_key).first()
        if receipt is None:
            raise
        return _resent(receipt, item, user, photos)
    return Answer(201, body)
