from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from notifications.models import Notification


@login_required
def inbox(request):
    """The user's notifications, newest first; marked read from the page through the API."""
    notes = Notification.objects.visible_to(request.user).order_by("-created_at", "-id")
    page = Paginator(notes, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})
