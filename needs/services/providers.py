"""The services list (服务清单): providers and their offers. People and units register
themselves against a community (双报到: pending, with an account of role provider), or the
community enters them; the community confirms (with a location: matching measures from it),
refuses or suspends them, and keeps their offers."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Level, Region, Role, Unit, User
from grids.services.households import grid_for_point
from needs.models import Provider, ProviderKind, ProviderStatus, ServiceOffer
from needs.services import access, dispatch, notify, public
from needs.services.errors import Refused
from needs.services.intake import service_kind
from needs.services.steps import locked, object_id, text


def clean_phone(value) -> str:
    """One written form for phones everywhere (needs.services.public.normalise_phone): the
    account's username is the phone, so 138 1234 5678 and 13812345678 are one person."""
    text_ = str(value or "").strip()
    if not text_:
        raise Refused("required", _("give a phone number"), "phone")
    phone = public.normalise_phone(text_)
    if phone is None:
        raise Refused("invalid", _("not a phone number"), "phone")
    return phone


def _community(value) -> Region:
    pk = value.pk if isinstance(value, Region) else object_id(value, "community")
    community = Region.objects.filter(pk=pk, level=Level.COMMUNITY).select_related("parent").first()
    if community is None:
        raise Refused("invalid", _("no such community"), "community")
    return community


def _kind(value) -> str:
    if value not in ProviderKind.values:
        raise Refused("invalid", _("unknown kind of provider"), "kind")
    return value


def _location(value) -> Point | None:
    if value is None:
        return None
    if not isinstance(value, Point):
        raise Refused("invalid", _("the location is not a point"), "location")
    return value


def _keyed(provider: Provider) -> None:
    """The grid from the location; a location outside the provider's community is refused
    (双报到 is with the community one lives or works in, and matching measures from it: a
    point elsewhere would rank it kilometres off, or never within an offer's radius)."""
    provider.grid = grid_for_point(provider.location) if provider.location else None
    if provider.location is not None and (
        provider.grid is None or provider.grid.community_id != provider.community_id
    ):
        raise Refused(
            "outside_community",
            _("the location lies outside the community registered with"),
            "location",
        )


def _offer_fields(offer: ServiceOffer, data: dict) -> None:
    if "kind" in data:
        offer.kind = service_kind(data["kind"])
    if "description" in data:
        offer.description = text(data["description"], "description", 200)
    if "availability" in data:
        offer.availability = text(data["availability"], "availability", 100)
    if "capacity" in data:
        capacity = data["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 999:
            raise Refused("invalid", _("capacity is a whole number from 1 to 999"), "capacity")
        offer.capacity = capacity
    if "radius_m" in data:
        radius = data["radius_m"]
        if radius is not None and (
            isinstance(radius, bool) or not isinstance(radius, int) or not 1 <= radius <= 100_000
        ):
            raise Refused("invalid", _("the distance served is 1 to 100000 metres"), "radius_m")
        offer.radius_m = radius
    if "active" in data:
        offer.active = bool(data["active"])


def _set_area(offer: ServiceOffer, area, provider: Provider) -> None:
    if area is None:
        offer.area.set([provider.community_id])
        return
    if isinstance(area, (str, bytes)) or not hasattr(area, "__iter__"):
        raise Refused("invalid", _("the area served is a list of communities"), "area")
    ids = [r.pk if isinstance(r, Region) else object_id(r, "area") for r in area]
    found = set(
        Region.objects.filter(pk__in=ids, level=Level.COMMUNITY).values_list("pk", flat=True)
    )
    if not ids or len(found) != len(set(ids)):
        raise Refused("invalid", _("the area served is a list of communities"), "area")
    offer.area.set(found)


def _new_provider(data: dict, community: Region) -> Provider:
    kind = _kind(data.get("kind"))
    unit = None
    if data.get("unit") not in (None, ""):
        pk = data["unit"].pk if isinstance(data["unit"], Unit) else object_id(data["unit"], "unit")
        unit = Unit.objects.filter(pk=pk).first()
        if unit is None:
            raise Refused("invalid", _("no such unit"), "unit")
    location = _location(data.get("location")) or (unit.location if unit else None)
    return Provider(
        kind=kind,
        name=text(data.get("name"), "name", 100, required=True),
        unit=unit,
        organisation=text(data.get("organisation"), "organisation", 100),
        phone=clean_phone(data.get("phone"))
        if data.get("phone") or kind != ProviderKind.UNIT
        else "",
        community=community,
        location=location,
    )


def _offers(provider: Provider, offers) -> None:
    for i, line in enumerate(offers or []):
        offer = ServiceOffer(provider=provider)
        try:
            _offer_fields(offer, {"capacity": 1, **line})
        except Refused as error:
            error.field = f"offers[{i}].{error.field}"
            error.problems = [
                p.__class__(p.code, p.message, field=error.field) for p in error.problems
            ]
            raise
        offer.save()
        _set_area(offer, line.get("area"), provider)


@transaction.atomic
def register(data: dict, *, submitter: str = "") -> Provider:
    """双报到 from the public page: a pending provider and its account (username = the phone,
    role provider), which can sign in at once and sees 等待社区确认 until confirmed. `data`:
    kind, name, phone, password, organisation, community, location (Point), offers (a list
    of {kind, description, availability, capacity}). `submitter` is the address's HMAC the
    rate limit counts (needs.services.public)."""
    community = _community(data.get("community"))
    phone = clean_phone(data.get("phone"))  # the account's username: required of everyone
    provider = _new_provider({**data, "phone": phone, "unit": None}, community)
    password = str(data.get("password") or "")
    if not password:
        raise Refused("required", _("choose a password"), "password")
    if User.objects.filter(username=provider.phone).exists():
        raise Refused("already_registered", _("this phone number is already registered"), "phone")
    user = User(username=provider.phone, role=Role.PROVIDER, phone=provider.phone)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise Refused("weak_password", " ".join(error.messages), "password") from None
    user.set_password(password)
    user.save()
    provider.submitter = submitter
    _keyed(provider)
    provider.save()
    provider.users.add(user)
    _offers(provider, data.get("offers"))
    notify.tell(notify.community_staff(community.pk), "registered", provider=provider.name)
    return provider


@transaction.atomic
def create(user, data: dict) -> Provider:
    """The community enters a provider (a unit, a co-building unit, a person it knows):
    confirmed at once when it has a location, else pending until one is set."""
    community = _community(data.get("community"))
    if not access.is_reviewer(user, community):
        raise Refused("not_allowed", _("only the community keeps its services list"), "community")
    provider = _new_provider(data, community)
    _keyed(provider)
    if provider.location is not None:
        provider.status = ProviderStatus.CONFIRMED
        provider.confirmed_by, provider.confirmed_at = user, timezone.now()
    provider.save()
    _offers(provider, data.get("offers"))
    return provider


def _reviewed(p: Provider, user, version) -> Provider:
    p = locked(Provider, p.pk, version, related=("community",))
    if not access.is_reviewer(user, p.community):
        raise Refused("not_allowed", _("only the community keeps its services list"))
    return p


def _wrong(p: Provider) -> Refused:
    return Refused(
        "wrong_status",
        _("not possible while the provider is %(status)s") % {"status": p.get_status_display()},
        "status",
    )


@transaction.atomic
def update(p: Provider, user, version: int, data: dict) -> Provider:
    p = _reviewed(p, user, version)
    for name, limit in (("name", 100), ("organisation", 100)):
        if name in data:
            setattr(p, name, text(data[name], name, limit, required=name == "name"))
    if "phone" in data:
        p.phone = clean_phone(data["phone"]) if data["phone"] else ""
    if "location" in data:
        p.location = _location(data["location"])
        if p.location is None and p.status == ProviderStatus.CONFIRMED:
            raise Refused("required", _("a confirmed provider needs a location"), "location")
        _keyed(p)
    p.version += 1
    p.save()
    return p


@transaction.atomic
def confirm(p: Provider, user, version: int, location: Point | None = None) -> Provider:
    p = _reviewed(p, user, version)
    if p.status not in (ProviderStatus.PENDING, ProviderStatus.SUSPENDED, ProviderStatus.REFUSED):
        raise _wrong(p)
    location = _location(location) or p.location or (p.unit.location if p.unit_id else None)
    if location is None:
        raise Refused("required", _("set where the provider is before confirming"), "location")
    p.location = location
    _keyed(p)  # refuses a point outside the community, so a confirmed provider has a grid
    p.status = ProviderStatus.CONFIRMED
    p.confirmed_by, p.confirmed_at = user, timezone.now()
    p.refuse_reason = ""
    p.version += 1
    p.save()
    notify.tell(notify.provider_users(p), "provider_confirmed", provider=p.name)
    return p


@transaction.atomic
def refuse(p: Provider, user, version: int, reason: str) -> Provider:
    p = _reviewed(p, user, version)
    if p.status != ProviderStatus.PENDING:
        raise _wrong(p)
    p.refuse_reason = text(reason, "reason", 200, required=True)
    p.status = ProviderStatus.REFUSED
    p.version += 1
    p.save()
    notify.tell(notify.provider_users(p), "provider_refused", reason=p.refuse_reason)
    return p


@transaction.atomic
def suspend(p: Provider, user, version: int, reason: str = "") -> Provider:
    """No new dispatches, and those not yet accepted are withdrawn (their needs go back to
    待派单 and the community is told): a suspended provider must not 接单 and so see the
    resident's contact. Those under way (accepted, reported) go on."""
    p = _reviewed(p, user, version)
    if p.status != ProviderStatus.CONFIRMED:
        raise _wrong(p)
    p.refuse_reason = text(reason, "reason", 200)
    p.status = ProviderStatus.SUSPENDED
    p.version += 1
    p.save()
    dispatch.withdraw_on_suspension(p, user, p.refuse_reason)
    notify.tell(notify.provider_users(p), "provider_suspended", reason=p.refuse_reason)
    return p


@transaction.atomic
def add_offer(p: Provider, user, data: dict) -> ServiceOffer:
    p = _reviewed(p, user, None)
    offer = ServiceOffer(provider=p)
    if "kind" not in data:
        raise Refused("required", _("choose the kind of service offered"), "kind")
    _offer_fields(offer, data)
    offer.save()
    _set_area(offer, data.get("area"), p)
    return offer


@transaction.atomic
def update_offer(offer: ServiceOffer, user, version: int, data: dict) -> ServiceOffer:
    offer = locked(ServiceOffer, offer.pk, version, related=("provider__community",))
    if not access.is_reviewer(user, offer.provider.community):
        raise Refused("not_allowed", _("only the community keeps its services list"))
    _offer_fields(offer, data)
    offer.version += 1
    offer.save()
    if "area" in data:
        _set_area(offer, data["area"], offer.provider)
    return offer


@transaction.atomic
def remove_offer(offer: ServiceOffer, user, version: int) -> None:
    """An offer with dispatches is kept (they name it) and made inactive; else deleted."""
    offer = locked(ServiceOffer, offer.pk, version, related=("provider__community",))
    if not access.is_reviewer(user, offer.provider.community):
        raise Refused("not_allowed", _("only the community keeps its services list"))
    if offer.dispatches.exists():
        offer.active = False
        offer.version += 1
        offer.save()
    else:
        offer.delete()
