"""Devices of grid workers (issue #18): login on a phone issues a device token; community
staff and above revoke it; the phone wipes its data on its next contact and says so.

A device token is a grids.ApiToken of kind "device" (sent as `Authorization: Token gl_…` like
any other), valid GRIDLINE_DEVICE_TOKEN_DAYS after the last sync: every pull slides it."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from field.models import Device
from grids import scoping
from grids.models import Grid
from grids.services import tokens
from grids.tokens import ApiToken

USER_AGENT_CHARS = 300
# Staff who look after grid workers' phones: they list and revoke them.
MANAGER_ROLES = frozenset({"community_staff", "street_centre", "district_centre", "administrator"})


def token_days() -> float:
    # 180 by default: a phone that has not synced for half a year is in a drawer.
    return float(settings.GRIDLINE_DEVICE_TOKEN_DAYS)


def may_use_field_app(user) -> bool:
    return bool(user.is_active and user.role == "grid_worker" and user.grid_id)


@transaction.atomic
def register(user, name: str, *, user_agent: str = "") -> tuple[Device, str]:
    """A new device of a grid worker and its token's secret (shown once)."""
    token, secret = tokens.issue(user, name, kind=ApiToken.Kind.DEVICE)
    token.expires_at = token.created_at + dt.timedelta(days=token_days())
    token.save(update_fields=["expires_at"])
    device = Device.objects.create(
        user=user,
        token=token,
        name=name,
        user_agent=user_agent[:USER_AGENT_CHARS],
        created_at=token.created_at,
        last_seen_at=token.created_at,
    )
    return device, secret


def visible_to(user):
    """Devices a user may list and revoke: a grid worker their own; community staff, the
    street and district centres those of the grid workers in their jurisdiction;
    administrators all."""
    devices = Device.objects.select_related("user__grid", "token", "revoked_by")
    if not (user.is_authenticated and user.is_active):
        return devices.none()
    if scoping.sees_everything(user):
        return devices
    if user.role == "grid_worker":
        return devices.filter(user=user)
    if user.role not in MANAGER_ROLES:
        return devices.none()
    return devices.filter(
        user__role="grid_worker", user__grid__in=Grid.objects.filter(scoping.grid_q(user))
    )


def may_manage(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (scoping.sees_everything(user) or user.role in MANAGER_ROLES)
    )


@transaction.atomic
def revoke(device: Device, by) -> Device:
    """Revoke the device and its token (again is harmless: the first time is kept)."""
    now = timezone.now()
    if device.revoked_at is None:
        device.revoked_at = now
        device.revoked_by = by if getattr(by, "pk", None) else None
        device.save(update_fields=["revoked_at", "revoked_by"])
    tokens.revoke(ApiToken.objects.filter(pk=device.token_id))
    return device


def is_revoked(token: ApiToken) -> bool:
    """A device whose phone must wipe: revoked itself, its token revoked (logout, a new
    password), its user deactivated, or its user no longer a grid worker with a grid (moved to
    another role or out of the job with the account kept: the phone must not keep the grid's
    residents)."""
    device = getattr(token, "device", None)
    return bool(
        token.revoked_at is not None
        or not token.user.is_active
        or (device is not None and device.revoked_at is not None)
        or (token.kind == ApiToken.Kind.DEVICE and not may_use_field_app(token.user))
    )


def find_any(secret: str) -> ApiToken | None:
    """The token with this secret whatever its state (revoked and expired ones too), with
    its user and device: the field API tells a revoked phone to wipe, not only "no"."""
    return (
        ApiToken.objects.select_related(
            "user__region", "user__grid__community__parent", "user__department", "device"
        )
        .filter(digest=tokens.digest(secret))
        .first()
    )


def mark_wiped(token: ApiToken) -> bool:
    """The phone cleared its data: kept on the device (once). False when the token is of no
    device or the device was not revoked (a working phone does not wipe)."""
    device = getattr(token, "device", None)
    if device is None or not is_revoked(token):
        return False
    Device.objects.filter(pk=device.pk, wiped_at__isnull=True).update(wiped_at=timezone.now())
    return True


def synced(token: ApiToken, *, at: dt.datetime | None = None) -> None:
    """A pull: the device's last sync and the token's expiry slide forward (one UPDATE each,
    whatever the number of pulls)."""
    now = at or timezone.now()
    # Only a phone's token slides: a person's API token keeps its own fixed lifetime.
    ApiToken.objects.filter(pk=token.pk, kind=ApiToken.Kind.DEVICE).update(
        expires_at=now + dt.timedelta(days=token_days())
    )
    Device.objects.filter(token=token).update(last_sync_at=now, last_seen_at=now)


def boundary_json(grid: Grid) -> tuple[dict | None, list[float] | None]:
    geom = grid.boundary_on()
    if geom is None:
        return None, None
    w, s, e, n = geom.extent
    return json.loads(geom.json), [w, s, e, n]


def me(user) -> dict:
    """ME of the contract: who the phone is logged in as and their one grid."""
    grid = user.grid
    data = {
        "username": user.username,
        "name": person(user),
        "role": user.role,
        "sees_personal_data": scoping.sees_personal_data(user),
        "grid": None,
    }
    if grid is not None:
        boundary, bbox = boundary_json(grid)
        community = grid.community
        data["grid"] = {
            "id": grid.pk,
            "code": grid.code,
            "name": grid.name,
            "community": community.name,
            "street": community.parent.name if community.parent_id else "",
            "boundary": boundary,
            "bbox": bbox,
        }
    return data


def person(user) -> str:
    """A person's name as Chinese writes it (family name first), else the username."""
    return f"{user.last_name}{user.first_name}".strip() or user.username
