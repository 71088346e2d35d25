"""Issuing, finding, revoking and watching kiosk logins (screen.models.Kiosk)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Region, Role, User
from maps.fastpath import revoke as revoke_tiles
from screen.models import Kiosk

# Secrets start with this, so a leaked kiosk link is recognisable (secret scanners, logs).
PREFIX = "gk_"
# Who may leave a screen open on a wall: the centres, for their own jurisdiction.
ISSUERS = frozenset({Role.STREET_CENTRE, Role.DISTRICT_CENTRE, Role.ADMINISTRATOR})
# The service user's role follows the level of the region the kiosk shows.
ROLE_OF_LEVEL = {
    "district": Role.DISTRICT_CENTRE,
    "street": Role.STREET_CENTRE,
    "community": Role.COMMUNITY_STAFF,
}
# last_seen_at is written at most this often per kiosk: a screen asks for tiles and figures
# all day, and one row write per request would be for nothing.
TOUCH_EVERY = dt.timedelta(minutes=1)
# A kiosk's revocation is read from the cache on every request of its sessions; it is set
# on revocation (after the commit) and kept this long after a miss.
STATE_SECONDS = 300


class KioskRefused(ValueError):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def as_error(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_issue(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in ISSUERS)
        # A kiosk's own service user is a street or district centre too: it issues nothing.
        and not Kiosk.objects.filter(user=user.pk).exists()
    )


def issue(creator, region_code: str, name: str) -> tuple[Kiosk, str]:
    """A new kiosk showing `region_code` (a current district, street or community the creator
    may see); returns it and its secret, which is not stored and cannot be shown again."""
    region, name = check(creator, region_code, name)
    secret = PREFIX + secrets.token_urlsafe(32)
    return _create(creator, region, name, secret), secret


def check(creator, region_code: str, name: str) -> tuple[Region, str]:
    """The region and the cleaned name of a kiosk `creator` may issue; KioskRefused says why
    not (the admin's form shows it before saving)."""
    if not may_issue(creator):
        raise KioskRefused("not_permitted", _("only a street or district centre issues kiosks"))
    name = (name or "").strip()
    if not name:
        raise KioskRefused("required", _("name the screen"), "name")
    if len(name) > Kiosk._meta.get_field("name").max_length:
        raise KioskRefused("too_long", _("at most 100 characters"), "name")
    region = (
        Region.objects.visible_to(creator)
        .current()
        .filter(code=(region_code or "").strip(), level__in=list(ROLE_OF_LEVEL))
        .first()
    )
    if region is None:
        # The code is not echoed: it may be another jurisdiction's.
        raise KioskRefused(
            "unknown_region",
            _("no current district, street or community with this code in your jurisdiction"),
            "region",
        )
    return region, name


def _create(creator, region: Region, name: str, secret: str) -> Kiosk:
    with transaction.atomic():
        user = User(
            username=f"kiosk-{uuid.uuid4().hex[:12]}",
            first_name=name[:150],
            role=ROLE_OF_LEVEL[region.level],
            region=region,
        )
        user.set_unusable_password()
        user.save()
        kiosk = Kiosk.objects.create(
            name=name,
            region=region,
            user=user,
            digest=digest(secret),
            prefix=secret[: len(PREFIX) + 6],
            created_by=creator,
        )
    return kiosk


def link(request, secret: str) -> str:
    """The link to open on the wall: the secret in the fragment, which browsers keep to
    themselves, so no request line (access logs, proxies) ever carries it."""
    return request.build_absolute_uri(reverse("screen-kiosk-open")) + "#" + secret


def find(secret: str) -> Kiosk | None:
    """The active kiosk with this secret, or None."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    return (
        Kiosk.objects.active()
        .select_related("user", "region")
        .filter(digest=digest(secret), user__is_active=True)
        .first()
    )


def state_key(kiosk_id: int) -> str:
    return f"screen:kiosk:{kiosk_id}"


def revoke(kiosk: Kiosk) -> None:
    """End the kiosk: its service user is deactivated (every session and event stream of it
    ends, in any process, within the user cache's minute at worst) and the middleware ends
    each session on its next request."""
    if kiosk.revoked_at is not None:
        return
    with transaction.atomic():
        now = timezone.now()
        Kiosk.objects.filter(pk=kiosk.pk).update(revoked_at=now)
        kiosk.revoked_at = now
        kiosk.user.is_active = False
        kiosk.user.save(update_fields=["is_active"])
        key = state_key(kiosk.pk)
        # Dropped now and set after the commit: a request in between reads the row. The fast
        # path's cached tiles (served without a session) stop for the kiosk's URLs too.
        cache.delete(key)
        transaction.on_commit(lambda: cache.set(key, "revoked", STATE_SECONDS))
        transaction.on_commit(lambda: revoke_tiles(f"k{kiosk.pk}"))


def is_revoked(kiosk_id: int) -> bool:
    """Read on every request of a kiosk session: the cache first, the row on a miss."""
    key = state_key(kiosk_id)
    state = cache.get(key)
    if state is None:
        active = Kiosk.objects.filter(pk=kiosk_id, revoked_at__isnull=True).exists()
        state = "active" if active else "revoked"
        cache.add(key, state, STATE_SECONDS)
    return state == "revoked"


def touch(kiosk_id: int) -> None:
    """Record that the screen is alive, at most once a minute per kiosk."""
    if not cache.add(f"screen:kiosk-seen:{kiosk_id}", 1, int(TOUCH_EVERY.total_seconds())):
        return
    now = timezone.now()
    Kiosk.objects.filter(pk=kiosk_id).exclude(last_seen_at__gt=now - TOUCH_EVERY).update(
        last_seen_at=now
    )


def session_seconds() -> int:
    return int(getattr(settings, "GRIDLINE_KIOSK_SESSION_DAYS", 30) * 86400)


def visible_kiosks(user):
    """Kiosks a user may manage: an administrator all, a centre those of its jurisdiction."""
    if scoping.sees_everything(user):
        return Kiosk.objects.all()
    if not may_issue(user):
        return Kiosk.objects.none()
    return Kiosk.objects.visible_to(user)
