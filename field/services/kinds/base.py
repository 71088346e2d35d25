"""What every kind of outbox item shares: the item as the server reads it (`Context`), what
applying it gives back (`Applied`), the conflict a stale edit raises (`Conflict`), refusals
with their status (`refused`), and the registry the kind modules fill (`kind`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from field.models import OutboxReceipt
from grids.api.serializers import lonlat_point
from grids.problems import Problem, ProblemsError

# One sentence each: "unit" alone is a unit of measure elsewhere in the catalogue.
NOT_FOUND = {
    "household": gettext_lazy("there is no such household in your grid"),
    "resident": gettext_lazy("there is no such resident in your grid"),
    "building": gettext_lazy("there is no such building in your grid"),
    "unit": gettext_lazy("there is no such unit (organisation) in your grid"),
    "incident": gettext_lazy("there is no such incident in your grid"),
    "task": gettext_lazy("there is no such task in your grid"),
    "need": gettext_lazy("there is no such need in your grid"),
}


@dataclass
class Context:
    """One outbox item being applied, inside its transaction."""

    user: object
    device: object | None
    request: object  # the DRF request: the apps' serializers scope related ids by its user
    client_key: uuid.UUID
    kind: str
    target: int | str | None
    base_version: str | None
    data: dict
    photos: list
    now: dt.datetime  # the server's time: the time of every record the item writes


@dataclass
class Applied:
    """What an item wrote: the record in its working-set shape (the phone upserts it), the
    set it belongs to, the id of the row written, and notes kept on the receipt only."""

    record: dict | None
    set: str
    target_id: int | None = None
    private: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # more members of the answer's body


class Conflict(Exception):
    """The item was based on an older version of its record: 409 with the record as it is
    now, so the phone can show both and let the worker choose. Nothing is written."""

    def __init__(self, record: dict, version: str, set_name: str, message: str = ""):
        super().__init__(message or f"{set_name} {record.get('id')} is at version {version}")
        self.record, self.set = record, set_name
        self.version = version or str(record.get("version", ""))
        self.message = message or _(
            "the record was changed on the server since you last synced; compare and choose"
        )


def refused(code: str, message: str, field_name: str | None = None, status: int = 400):
    """A refusal the API answers with `status` (grids.api.errors reads `status_code`)."""
    error = ProblemsError([Problem(code, message, field=field_name)])
    error.status_code = status
    return error


def not_found(what: str, field_name: str = "target"):
    """The answer for a record that does not exist and one outside the worker's grid alike
    (nothing outside the jurisdiction is named). `what` is a key of NOT_FOUND."""
    return refused("not_found", str(NOT_FOUND[what]), field_name, status=404)


def whole_number(value, field_name: str) -> int:
    """An id the phone sent: ASCII digits or an int (a bool, "²" or 1.5 is not one)."""
    if isinstance(value, bool):
        raise refused("invalid", _("not a whole number"), field_name)
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "")
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        raise refused("invalid", _("not a whole number"), field_name)
    return int(text)


def target_id(ctx: Context) -> int:
    if ctx.target in (None, ""):
        raise refused("required", _("this kind of item needs its target's id"), "target")
    return whole_number(ctx.target, "target")


def locked(queryset: QuerySet, pk: int, what: str) -> Model:
    """The row `pk` of the worker's scoped `queryset`, locked (SELECT … FOR UPDATE) to the end
    of the item's transaction; 404 when it is not there. Scope is asked again once the row is
    ours: a writer we waited for may have moved it out of the grid."""
    scoped = queryset.filter(pk=pk)
    row = (
        queryset.model._default_manager.select_for_update()
        .filter(pk__in=scoped.values("pk"))
        .first()
    )
    if row is None or not scoped.exists():
        raise not_found(what)
    return row


def check_version(ctx: Context, current: str, record: Callable[[], dict], set_name: str) -> None:
    """The edit's base_version against the locked row's version: 409 with the current record
    when they differ. An edit without a base_version is refused: the phone always has one."""
    if ctx.base_version in (None, ""):
        raise refused(
            "required",
            _("an edit says which version of the record it was based on"),
            "base_version",
        )
    if str(ctx.base_version) != current:
        raise Conflict(record(), current, set_name)


@dataclass(frozen=True)
class Kind:
    name: str
    apply: Callable[[Context], Applied]
    photos: bool = False  # whether photos may come with it


KINDS: dict[str, Kind] = {}


def kind(name: str, *, photos: bool = False):
    """Register the decorated function as the applier of items of kind `name`."""

    def register(function: Callable[[Context], Applied]):
        KINDS[name] = Kind(name, function, photos)
        return function

    return register


def point(data: dict, field_name: str = "location") -> Point:
    """The WGS84 point of `lon` and `lat` in an item's data; 400 naming `lon` or `lat` when
    either is missing, not a number or out of range (grids.limits, the one rule)."""
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None or lat is None:
        raise refused(
            "required", _("give the point as lon and lat"), "lon" if lon is None else "lat"
        )
    return lonlat_point(lon, lat)


def validated(serializer, data: dict, **kwargs) -> dict:
    """The data checked by the app's own API serializer (its refusals name the field)."""
    checked = serializer(data=data, **kwargs)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def text(data: dict, name: str, limit: int = 2000) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refused("invalid", _("%(field)s is text") % {"field": name}, name)
    if len(value) > limit:
        raise refused(
            "too_long",
            _("%(n)d characters, at most %(max)d") % {"n": len(value), "max": limit},
            name,
        )
    return value.strip()


def receipts_naming(user, kind_name: str, key: str, note: str):
    """The user's receipts of `kind_name` whose private note `note` is `key` (incidents
    reported with a patrol's key before the patrol itself arrived)."""
    return OutboxReceipt.objects.filter(user=user, kind=kind_name, **{f"result___{note}": key})
