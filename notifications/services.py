"""Telling people: one in-app row per user, and a mail to those with an address."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification

log = logging.getLogger(__name__)


def notify(users: Iterable, *, kind: str, title: str, body: str = "", url: str = "") -> int:
    """Notify each active user once. The mails leave after the commit, so a rolled-back step
    tells no one; a mail server that is down is logged and the in-app rows stay."""
    users = [u for u in {u.pk: u for u in users}.values() if u.is_active]
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=u, kind=kind, title=title, body=body, url=url, created_at=now)
        for u in users
    )
    mails = [
        (title, f"{body}\n\n{settings.GRIDLINE_SITE_URL}{url}".strip(), None, [u.email])
        for u in users
        if u.email
    ]
    if mails:
        transaction.on_commit(lambda: _send(mails))
    return len(users)


def _send(mails) -> None:
    try:
        send_mass_mail(mails, fail_silently=False)
    except OSError:
        # The in-app notification is the record; a mail relay that is down must not undo
        # the step that was committed.
        log.exception("could not send %d notification mails", len(mails))


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    inbox = Notification.objects.visible_to(user).unread()
    if ids is not None:
        inbox = inbox.filter(pk__in=list(ids))
    return inbox.update(read_at=timezone.now())
