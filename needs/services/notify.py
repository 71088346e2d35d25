"""Who is told what about a need: the community's staff (review, dispatch), the grid's
workers (confirm), the provider's accounts (a dispatch), the raiser (decisions). One
in-app notification each through notifications.services.notify, in the platform's language
(the message goes to someone else than the writer)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from grids.models import Role, User
from needs.models import Need, Provider
from notifications.services import notify

# kind → (title, body) templates; formatted with the need's number and title.
MESSAGES = {
    "raised": (N_("New need %(number)s to review"), "%(title)s"),
    "accepted": (N_("Need %(number)s accepted"), "%(title)s"),
    "declined": (N_("Need %(number)s declined"), "%(reason)s"),
    "merged": (N_("Need %(number)s merged into %(into)s"), "%(title)s"),
    "dispatched": (N_("New dispatch: need %(number)s"), "%(title)s"),
    "taken": (N_("Need %(number)s accepted by %(provider)s"), "%(title)s"),
    "provider_declined": (N_("%(provider)s declined need %(number)s"), "%(reason)s"),
    "withdrawn": (N_("Dispatch of need %(number)s withdrawn"), "%(reason)s"),
    "reported": (N_("Need %(number)s reported done: please confirm"), "%(title)s"),
    "confirmed": (N_("Need %(number)s confirmed done"), "%(title)s"),
    "reopened": (N_("Need %(number)s is not done yet"), "%(reason)s"),
    "remind": (N_("Dispatch of need %(number)s awaits acceptance"), "%(title)s"),
    "overdue": (N_("Need %(number)s is overdue"), "%(title)s"),
    "registered": (N_("New provider registration: %(provider)s"), "%(provider)s"),
    "provider_confirmed": (N_("Your registration is confirmed"), "%(provider)s"),
    "provider_refused": (N_("Your registration was not accepted"), "%(reason)s"),
    "provider_suspended": (N_("Your services are suspended"), "%(reason)s"),
}


def community_staff(community_id: int) -> list[User]:
    return list(User.objects.filter(role=Role.COMMUNITY_STAFF, region=community_id, is_active=True))


def grid_workers(grid_id: int) -> list[User]:
    return list(User.objects.filter(role=Role.GRID_WORKER, grid=grid_id, is_active=True))


def provider_users(provider: Provider) -> list[User]:
    return list(provider.users.filter(is_active=True))


def raiser(need: Need) -> list[User]:
    return [need.raised_by] if need.raised_by_id else []


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # pages are BOARD's and PHONE's; a missing one links nowhere
        return ""


def tell(users: Iterable[User], kind: str, need: Need | None = None, **values) -> int:
    users = list(users)
    if not users:
        return 0
    title, body = MESSAGES[kind]
    context = {"number": "", "title": "", "reason": "", "provider": "", "into": "", **values}
    if need is not None:
        context.update(number=need.number, title=need.title)
    inbox = any(u.role == Role.PROVIDER for u in users)
    with translation.override(settings.LANGUAGE_CODE):
        url = (
            _url("needs:inbox")
            if inbox
            else (_url("needs:detail", need.pk) if need is not None else _url("needs:services"))
        )
        return notify(
            users,
            kind=f"need.{kind}",
            title=_(title) % context,
            body=body % context,
            url=url,
        )
