"""Issuing, checking and revoking people's API tokens (grids.tokens.ApiToken)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from grids.tokens import ApiToken

# Secrets start with this, so a leaked one is recognisable (secret scanners, logs).
PREFIX = "gl_"
# last_used_at is written at most this often per token: a map's tiles would otherwise write
# one row per tile.
TOUCH_EVERY = dt.timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user, name: str, *, kind: str = ApiToken.Kind.API) -> tuple[ApiToken, str]:
    """A new token for `user`, valid GRIDLINE_TOKEN_TTL_DAYS; returns it and its secret,
    which is not stored and cannot be shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        kind=kind,
        name=name,
        digest=digest(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.GRIDLINE_TOKEN_TTL_DAYS),
    )
    return token, secret


def find(secret: str) -> ApiToken | None:
    """The active token with this secret, of an active user, or None."""
    token = (
        ApiToken.objects.active()
        # The jurisdiction scoping reads on every request, as the session backend loads it.
        .select_related("user__region", "user__grid__community", "user__department")
        .filter(digest=digest(secret), user__is_active=True)
        .first()
    )
    if token is not None:
        touch(token)
    return token


def touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # A conditional update: concurrent requests with one token write it once.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - TOUCH_EVERY).update(
            last_used_at=now
        )
        token.last_used_at = now


def revoke(tokens) -> int:
    """Revoke the given tokens (a query set); returns how many were still active."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_all(user) -> int:
    return revoke(ApiToken.objects.filter(user=user))


def revoke_on_password_change(sender, instance, created, **kwargs) -> None:
    """post_save of the user: a new password (set_password leaves it in `_password` until the
    save is done) revokes every token, as it ends every other session."""
    if not created and getattr(instance, "_password", None) is not None:
        revoke_all(instance)
