"""The wall screen page (/screen/) and the kiosk link that opens it on a wall."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from grids.models import Region
from screen.middleware import SESSION_KEY
from screen.services import figures, kiosks


@login_required
@never_cache
def screen_page(request):
    """The dashboard: KPI cards, charts, the live map and the live feed; it reads
    /api/screen/figures/, the map's style for the `screen` preset and /events/."""
    config = {
        "figures": reverse("screen-figures"),
        # contract B: the map's style for the wall's preset, dark.
        "style": "/api/map/style.json?preset=screen&theme=dark",
        "refreshSeconds": int(getattr(settings, "GRIDLINE_SCREEN_REFRESH_SECONDS", 60)),
        "kiosk": SESSION_KEY in request.session,
    }
    return render(
        request,
        "screen/screen.html",
        {
            "config": config,
            "scope": figures.scope_of(request.user),
            "time_zone": settings.TIME_ZONE,
        },
    )


@login_required
def kiosk_page(request):
    """Wall screen logins of the user's jurisdiction: create (the link shown once), list,
    revoke, through /api/screen/kiosks/. Street and district centres, administrators."""
    if not kiosks.may_issue(request.user):
        raise PermissionDenied
    regions = (
        Region.objects.visible_to(request.user)
        .current()
        .filter(level__in=list(kiosks.ROLE_OF_LEVEL))
        .order_by("code")
    )
    return render(
        request,
        "screen/kiosks.html",
        {"regions": regions, "config": {"api": reverse("screen-kiosks")}},
    )


@never_cache
def kiosk_login(request, secret: str):
    """Open a kiosk's long read-only session and go to the screen. An unknown or revoked
    link is a plain 404: it says nothing about which links exist."""
    kiosk = kiosks.find(secret)
    if kiosk is None:
        raise Http404
    login(request, kiosk.user, backend="grids.auth.CachedUserBackend")
    request.session[SESSION_KEY] = kiosk.pk
    request.session.set_expiry(kiosks.session_seconds())
    kiosks.touch(kiosk.pk)
    response = redirect("screen")
    # The secret is in this URL: no page it leads to may pass it on as a referrer.
    response["Referrer-Policy"] = "no-referrer"
    return response
