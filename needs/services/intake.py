"""Raising a need (需求 / 微心愿): from a grid worker's visit, the community's desk, or a
resident's phone through the public form. Every need is keyed to its grid on write and is
reviewed before anything is done with it (a reviewer raising one may accept it at once)."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Grid, Household
from grids.services.households import grid_for_point
from needs.models import Need, NeedAction, NeedSource, NeedStatus, PhotoStage, ServiceKind, Urgency
from needs.services import access, events, notify
from needs.services.errors import Refused
from needs.services.review import due_for
from needs.services.steps import checked_photos, object_id, save_photos, text


def service_kind(value) -> ServiceKind:
    """A kind by its instance, code or id; an inactive kind takes no new needs."""
    if isinstance(value, ServiceKind):
        kind = value
    else:
        found = ServiceKind.objects.filter(active=True)
        if isinstance(value, int) or (
            isinstance(value, str) and value.isascii() and value.isdigit()
        ):
            kind = found.filter(pk=object_id(value, "kind")).first()
        elif isinstance(value, str) and value:
            kind = found.filter(code=value).first()
        else:
            raise Refused("required", _("choose the kind of service needed"), "kind")
        if kind is None:
            raise Refused("invalid", _("no such service kind"), "kind")
    if not kind.active:
        raise Refused("invalid", _("this service kind is no longer offered"), "kind")
    return kind


def _household(value, user) -> Household | None:
    if value in (None, ""):
        return None
    if user is None:
        raise Refused("not_allowed", _("a public submission cannot name a household"), "household")
    pk = value.pk if isinstance(value, Household) else object_id(value, "household")
    household = Household.objects.visible_to(user).filter(pk=pk).first()
    if household is None:
        raise Refused("invalid", _("no such household in your jurisdiction"), "household")
    return household


def _place(user, location: Point | None, grid: Grid | None, household) -> tuple[Grid, Point | None]:
    """The grid from the point (the foundation's keying rule); without a point, the
    household's, the grid given (the public form's) or the raiser's own grid."""
    if location is not None and not isinstance(location, Point):
        raise Refused("invalid", _("the location is not a point"), "location")
    if location is not None:
        location.srid = location.srid or 4326
        if location.srid == 4326 and not (-180 <= location.x <= 180 and -90 <= location.y <= 90):
            raise Refused("invalid", _("the location is not a point"), "location")
        if location.srid != 4326:
            location = location.transform(4326, clone=True)
    if location is None and household is not None:
        location = household.location
    if location is not None:
        keyed = grid_for_point(location)
        if keyed is None:
            raise Refused("outside_grids", _("the location lies in no grid"), "location")
        if grid is not None and keyed.community_id != grid.community_id:
            raise Refused(
                "outside_community",
                _("the location lies outside this grid's community"),
                "location",
            )
        return keyed, location
    if grid is None and user is not None and user.grid_id:
        grid = user.grid
    if grid is None:
        raise Refused("required", _("give the location or the grid of the need"), "location")
    return grid, None


def raise_need(
    user, data: dict, photos=(), *, source: str, grid: Grid | None = None, submitter: str = ""
) -> Need:
    """`user` None: a resident through the public form (`grid` from the form's key,
    `submitter` the HMAC of the address). `data`: kind, title, description, urgency,
    location (Point), address, household, contact_name, contact_phone, client_key, and for a
    reviewer `accept` (accepted at once). A resend with a known client_key answers the need
    it made."""
    if source not in NeedSource.values:
        raise Refused("invalid", _("unknown source"), "source")
    if (user is None) != (source == NeedSource.PUBLIC):
        raise Refused("not_allowed", _("only the public form raises public needs"), "source")
    client_key = text(data.get("client_key"), "client_key", 64)
    if client_key:
        existing = Need.objects.filter(client_key=client_key).first()
        if existing is not None:
            if user is not None and existing.raised_by_id == user.pk:
                return existing
            raise Refused("key_conflict", _("this client key is already in use"), "client_key")
    kind = service_kind(data.get("kind"))
    urgency = data.get("urgency") or Urgency.NORMAL
    if urgency not in Urgency.values:
        raise Refused("invalid", _("urgency is normal or urgent"), "urgency")
    fields = {
        "title": text(data.get("title"), "title", 60, required=True),
        "description": text(data.get("description"), "description", 1000),
        "address": text(data.get("address"), "address", 200),
        "contact_name": text(data.get("contact_name"), "contact_name", 50),
        "contact_phone": text(data.get("contact_phone"), "contact_phone", 20),
    }
    household = _household(data.get("household"), user)
    keyed, location = _place(user, data.get("location"), grid, household)
    if user is not None and not access.may_raise(user, keyed):
        raise Refused(
            "outside_jurisdiction", _("the need lies outside your jurisdiction"), "location"
        )
    if household is not None and household.grid_id not in (None, keyed.pk):
        raise Refused("invalid", _("the household is in another grid"), "household")
    accept = bool(data.get("accept"))
    if accept and not access.is_reviewer(user, keyed.community):
        raise Refused("not_allowed", _("only the community may accept a need"), "accept")
    checked = checked_photos(photos)
    now = timezone.now()
    with transaction.atomic():
        need = Need(
            kind=kind,
            urgency=urgency,
            source=source,
            grid=keyed,
            community=keyed.community,
            location=location,
            household=household,
            raised_by=user,
            raised_at=now,
            submitter=submitter if user is None else "",
            **fields,
        )
        if client_key:
            need.client_key = client_key
        need.save()
        save_photos(need, checked, stage=PhotoStage.RAISED, user=user)
        events.record(need, NeedAction.RAISED, user, at=now, data={"source": source})
        if accept:
            need.status = NeedStatus.ACCEPTED
            need.reviewed_by, need.reviewed_at = user, now
            need.due_at = due_for(need, now)
            need.version += 1
            need.save()
            events.record(need, NeedAction.ACCEPTED, user, from_status=NeedStatus.SUBMITTED)
        else:
            notify.tell(notify.community_staff(need.community_id), "raised", need)
        events.published(need, events.CREATED)
    return need
