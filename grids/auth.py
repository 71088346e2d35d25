"""Logged-in users from the shared cache (decision 6's tile budget: a cached tile must not wait
on the database). With a per-process cache the user comes from the database as usual."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from rest_framework.request import Request
from rest_framework.settings import api_settings

# A user saved while another request was reading the old row can be cached stale; it is
# dropped on every save and lives at most this long, so a deactivated user or a changed
# jurisdiction takes effect within a minute in the worst case, at once in every other.
USER_SECONDS = 60


def user_key(user_id) -> str:
    return f"user:{user_id}"


class CachedUserBackend(ModelBackend):
    def get_user(self, user_id):
        if not settings.GRIDLINE_SHARED_CACHE:
            return super().get_user(user_id)
        key = user_key(user_id)
        user = cache.get(key)
        if user is None:
            # With the jurisdiction row: every scoped query starts from it. A region or grid
            # is never re-levelled, only renamed, so a cached copy scopes the same.
            user = (
                self.get_user_queryset()
                .select_related("region", "grid", "department")
                .filter(pk=user_id, is_active=True)
                .first()
            )
            if user is not None:
                cache.add(key, user, USER_SECONDS)
        return user

    def get_user_queryset(self):
        from django.contrib.auth import get_user_model

        return get_user_model()._default_manager.all()


def forget_user(sender, instance, **kwargs) -> None:
    """Drop a saved or deleted user from the cache once the change is committed."""
    if settings.GRIDLINE_SHARED_CACHE:
        key = user_key(instance.pk)
        transaction.on_commit(lambda: cache.delete(key))


def request_user(request):
    """The session's user, or the user of an API credential in the Authorization header (a
    phone's device token, an API client): for plain Django views that apps without a session
    fetch, such as photos and the map's style, TileJSON and tiles. Raises DRF's
    AuthenticationFailed for a bad credential, which the caller answers as a 401."""
    if request.user.is_authenticated or "HTTP_AUTHORIZATION" not in request.META:
        return request.user
    drf_request = Request(
        request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    )
    user = drf_request.user
    # Later code (holder(), scope keys, audit) reads request.user.
    request.user = user
    return user
