"""Writing standard addresses (标准地址): typed text read into its parts
(grids.services.addresses), one row per normalised text, keyed to its grid when it has a
point."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction

from grids.models import Address, Level, Region
from grids.problems import ProblemsError
from grids.services.addresses import AddressError, ParsedAddress, parse_address
from grids.services.basedata.keying import Checks, key_point
from grids.signals import announce


def community_of(parsed: ParsedAddress, location: Point | None) -> Region | None:
    """The community an address is in: the one its point lies in, else the one current
    community its text names (None when it names none, or a name several share)."""
    communities = Region.objects.current().filter(level=Level.COMMUNITY)
    if location is not None:
        found = communities.containing(location).first()
        if found is not None:
            return found
    if not parsed.community:
        return None
    named = list(communities.filter(name=parsed.community)[:2])
    return named[0] if len(named) == 1 else None


def standard_text(parsed: ParsedAddress, community: Region | None) -> str:
    """The normalised full text. With its community known, the district, street and community
    are the tree's names, so that 中山路5号 typed alone and with its district above it are one
    address."""
    if community is None:
        return parsed.text
    street = community.parent
    district = street.parent if street else None
    names = [r.name for r in (district, street, community) if r is not None]
    return "".join(names) + parsed.locality


def check_address(text: str, *, row: int | None = None, field: str = "address"):
    """The parsed address, or a ProblemsError naming the field and the reason."""
    try:
        return parse_address(text)
    except AddressError as error:
        raise ProblemsError([error.problem(field=field, row=row)]) from None


def get_or_create_address(
    text: str, *, location: Point | None = None, building=None, user=None
) -> tuple[Address, bool]:
    """The standard address of `text` (created when new): (address, created). A point given
    for an address that has none locates it and keys it to its grid; an address already
    located keeps its point."""
    parsed = check_address(text)
    if location is not None:
        checks = Checks()
        fields = {"location": location}
        checks.point(fields)
        checks.raise_any()
        location = fields["location"]
    community = community_of(parsed, location)
    full = standard_text(parsed, community)
    with transaction.atomic():
        grid = key_point(location, user) if location is not None else None
        existing = Address.objects.select_for_update().filter(text=full).first()
        if existing is not None:
            changed = []
            if existing.location is None and location is not None:
                existing.location, existing.grid = location, grid
                changed += ["location", "grid"]
            if existing.building_id is None and building is not None:
                existing.building = building
                changed.append("building")
            if changed:
                existing.save(update_fields=changed)
                announce(Address)
            return existing, False
        try:
            with transaction.atomic():
                address = Address.objects.create(
                    **{**parsed.address_fields(), "text": full},
                    community=community,
                    location=location,
                    grid=grid,
                    building=building,
                )
        except IntegrityError:
            # Written meanwhile by another transaction: that one is the address.
            return Address.objects.get(text=full), False
    announce(Address)
    return address, True
