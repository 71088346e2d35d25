"""/field/devices/ (main site, issue #18): the phones of the grid workers community staff,
street and district centres and administrators look after, with their last sync, and a
button that revokes one (the phone wipes its data on its next contact)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from field.services import devices

PAGE_ROWS = 500


def _manager(request) -> None:
    if not devices.may_manage(request.user):
        raise PermissionDenied(_("The devices page is for community staff and above."))


@login_required
def devices_page(request):
    _manager(request)
    # Phones in use first (the ones a revoke is for), the most recently synced on top.
    in_use_first = F("revoked_at").asc(nulls_first=True)
    last_sync = F("last_sync_at").desc(nulls_last=True)
    rows = list(
        devices.visible_to(request.user).order_by(in_use_first, last_sync, "-created_at")[
            :PAGE_ROWS
        ]
    )
    return render(
        request,
        "field/devices.html",
        {
            "rows": rows,
            "active": sum(1 for d in rows if d.revoked_at is None and d.token.revoked_at is None),
            "limit": PAGE_ROWS,
        },
    )


@login_required
@require_POST
def revoke_device(request, pk: int):
    _manager(request)
    # Out of the jurisdiction is absent (404), as everywhere.
    device = get_object_or_404(devices.visible_to(request.user), pk=pk)
    devices.revoke(device, request.user)
    messages.success(
        request,
        _("%(device)s of %(user)s is revoked: the phone clears its data on its next contact.")
        % {"device": device.name, "user": devices.person(device.user)},
    )
    return redirect("field:devices")
