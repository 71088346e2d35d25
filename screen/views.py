"""The wall screen page (/screen/) and the kiosk link that opens it on a wall."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

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
def kiosk_link(request, secret: str):
    """A link issued with the secret in its path (before review M4): nothing happens on this
    GET (a page elsewhere could otherwise log a visitor's browser into a kiosk); the secret
    goes on in the fragment, which browsers never send, to the page that posts it."""
    response = redirect(reverse("screen-kiosk-open") + "#" + quote(secret, safe=""))
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def kiosk_open(request):
    """The kiosk link is /screen/kiosk/#<secret>: the fragment stays in the browser (no
    access log or proxy sees it); screen/kiosk-open.js posts it here with the CSRF token.
    A valid secret opens the kiosk's long read-only session and goes to the screen; an
    unknown or revoked one is a plain 404 saying nothing about which links exist."""
    status = 200
    if request.method == "POST":
        kiosk = kiosks.find(request.POST.get("secret", ""))
        if kiosk is not None:
            login(request, kiosk.user, backend="grids.auth.CachedUserBackend")
            request.session[SESSION_KEY] = kiosk.pk
            request.session.set_expiry(kiosks.session_seconds())
            kiosks.touch(kiosk.pk)
            return redirect("screen")
        status = 404
    response = render(request, "screen/kiosk_open.html", {"refused": status == 404}, status=status)
    # Not no-referrer: with it a browser posts the form with `Origin: null`, which the CSRF
    # check refuses. No secret is in this URL (a referrer never carries the fragment).
    response["Referrer-Policy"] = "same-origin"
    return response
