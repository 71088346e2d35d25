"""A need's history and its live events. Every step writes one NeedEvent (with the version
it produced) and, on commit, one live event to the maps and boards of those who see the need
(the incidents' scope rule: grid, community, street, district; never departments)."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from live import services as live
from needs.models import Need, NeedEvent

LAYERS = ("needs",)
CREATED, CHANGED = "need.created", "need.changed"


def record(
    need: Need,
    action: str,
    user=None,
    *,
    from_status: str = "",
    provider=None,
    comment: str = "",
    data: dict | None = None,
    at=None,
) -> NeedEvent:
    return NeedEvent.objects.create(
        need=need,
        action=action,
        from_status=from_status,
        to_status=need.status,
        actor=user if user is not None and user.is_authenticated else None,
        provider=provider,
        version=need.version,
        at=at or timezone.now(),
        comment=comment,
        data=data or {},
    )


def _url(need: Need) -> str:
    try:
        return reverse("needs:detail", args=[need.pk])
    except NoReverseMatch:  # the board's pages are BOARD's; until they exist, no link
        return ""


def _object(need: Need) -> dict:
    # Written in the platform's language: the event goes to many users, not to the writer.
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "id": need.pk,
            "number": need.number,
            "title": need.title,
            "status": need.status,
            "status_label": str(need.get_status_display()),
            "kind": need.kind.code,
            "kind_name": need.kind.name,
            "urgency": need.urgency,
            "overdue": need.overdue,
            "grid": need.grid.code,
            "lon": round(need.location.x, 6) if need.location else None,
            "lat": round(need.location.y, 6) if need.location else None,
            "url": _url(need),
        }


def published(need: Need, kind: str = CHANGED) -> None:
    community = need.community
    street = community.parent
    live.publish(
        kind,
        _object(need),
        layers=LAYERS,
        rule="incident",
        grid=need.grid_id,
        community=community.pk,
        street=street.pk if street else None,
        district=street.parent_id if street else None,
    )
